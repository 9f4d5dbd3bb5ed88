/* Parameter checks shared by the kernels (internal). */
#ifndef HK_CHECK_H
#define HK_CHECK_H

#include "hk_nn_types.h"

hk_status hk_check_dims(const hk_dims *d);
hk_status hk_check_activation(const hk_activation *a);
hk_status hk_check_offsets(int32_t input_offset, int32_t output_offset);
hk_status hk_check_quant(const hk_quant *q, int32_t channels);
/* Output (h, w) of a window over the padded input must be what output_dims says. */
hk_status hk_check_window(const hk_dims *input_dims, int32_t kh, int32_t kw, const hk_hw *stride,
                          const hk_hw *dilation, const hk_padding *padding,
                          const hk_dims *output_dims);
/* Parameters shared by the pooling kernels. */
hk_status hk_check_pool(const hk_pool_params *params, const hk_dims *input_dims, const hk_hw *pool,
                        const hk_dims *output_dims);
hk_status hk_check_conv(const hk_conv_params *params, const hk_quant *quant, const hk_dims *input_dims,
                        int32_t kh, int32_t kw, const hk_dims *output_dims);
/* The output stage of a kernel that rescales with hk_fc_params and hk_quant (mean_hw,
 * requantize): params not NULL (HK_ERR_NULL), the offsets, the activation, then the requantizer
 * with count 1 or `channels`. */
hk_status hk_check_rescale(const hk_fc_params *params, const hk_quant *quant, int32_t channels);
/* Scratch: HK_OK when needed <= 0 (ctx may then be NULL), else ctx, ctx->buf not NULL and
 * ctx->size >= needed, or HK_ERR_BUFFER. */
hk_status hk_check_context(const hk_context *ctx, int32_t needed);
/* Every check of hk_fully_connected_s8 and hk_pointwise_conv2d_s8, in their order, with the scratch
 * the kernel needs: one place for the portable kernel and any variant of it. */
hk_status hk_check_fully_connected(const hk_context *ctx, const hk_fc_params *params, const hk_quant *quant,
                                   int32_t input_size, const int8_t *input, int32_t output_size,
                                   const int8_t *weights, const int8_t *output, int32_t buffer_size);
hk_status hk_check_pointwise(const hk_context *ctx, const hk_conv_params *params, const hk_quant *quant,
                             const hk_dims *input_dims, const int8_t *input, const int8_t *filter,
                             const hk_dims *output_dims, const int8_t *output, int32_t buffer_size);

#endif
