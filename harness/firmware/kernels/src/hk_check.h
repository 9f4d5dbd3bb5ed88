/* The checks the per-kernel hk_<kernel>_check functions are made of (internal to hk_check.c's
 * callers); each returns the id of the first check that fails, HK_CHECK_OK when none does. */
#ifndef HK_CHECK_H
#define HK_CHECK_H

#include "hk_nn_types.h"

hk_check_id hk_check_dims(const hk_dims *d);
hk_check_id hk_check_activation(const hk_activation *a);
hk_check_id hk_check_offsets(int32_t input_offset, int32_t output_offset);
hk_check_id hk_check_quant(const hk_quant *q, int32_t channels);
/* Output (h, w) of a window over the padded input must be what output_dims says. */
hk_check_id hk_check_window(const hk_dims *input_dims, int32_t kh, int32_t kw, const hk_hw *stride,
                            const hk_hw *dilation, const hk_padding *padding, const hk_dims *output_dims);
/* Parameters shared by the pooling kernels. */
hk_check_id hk_check_pool(const hk_pool_params *params, const hk_dims *input_dims, const hk_hw *pool,
                          const hk_dims *output_dims);
hk_check_id hk_check_conv(const hk_conv_params *params, const hk_quant *quant, const hk_dims *input_dims,
                          int32_t kh, int32_t kw, const hk_dims *output_dims);
/* The output stage of a kernel that rescales with hk_fc_params and hk_quant (mean_hw,
 * requantize): params not NULL, the offsets, the activation, then the requantizer with count 1 or
 * `channels`. */
hk_check_id hk_check_rescale(const hk_fc_params *params, const hk_quant *quant, int32_t channels);
/* Scratch: OK when needed <= 0 (ctx may then be NULL), else ctx, ctx->buf not NULL and
 * ctx->size >= needed, or HK_CHECK_SCRATCH. */
hk_check_id hk_check_context(const hk_context *ctx, int32_t needed);

#endif
