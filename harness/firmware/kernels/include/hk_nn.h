/* Portable int8 kernels. Each validates its parameters and returns a status; none allocates,
 * none keeps state between calls. Layouts: activations NHWC, conv filters OHWI, depthwise
 * filters [kh][kw][c], fully connected weights [out][in]. */
#ifndef HK_NN_H
#define HK_NN_H

#include "hk_nn_types.h"

/* filter_dims: (kh, kw, in_c); out_dims->c is the number of filters. */
hk_status hk_conv2d_s8(const hk_context *ctx, const hk_conv_params *params, const hk_quant *quant,
                       const hk_dims *input_dims, const int8_t *input, const hk_dims *filter_dims,
                       const int8_t *filter, const int32_t *bias, const hk_dims *output_dims,
                       int8_t *output);
int32_t hk_conv2d_s8_get_buffer_size(const hk_dims *input_dims, const hk_dims *filter_dims);

/* filter_dims: (kh, kw, in_c), as for conv2d; output_dims->c = in_c * channel multiplier, and the
 * filter holds [kh][kw][out_c]. */
hk_status hk_depthwise_conv2d_s8(const hk_context *ctx, const hk_conv_params *params,
                                 const hk_quant *quant, const hk_dims *input_dims,
                                 const int8_t *input, const hk_dims *filter_dims,
                                 const int8_t *filter, const int32_t *bias,
                                 const hk_dims *output_dims, int8_t *output);
int32_t hk_depthwise_conv2d_s8_get_buffer_size(const hk_dims *input_dims, const hk_dims *filter_dims);

/* 1x1 convolution, filter [out_c][in_c]; params->padding must be zero and dilation one. */
hk_status hk_pointwise_conv2d_s8(const hk_context *ctx, const hk_conv_params *params,
                                 const hk_quant *quant, const hk_dims *input_dims,
                                 const int8_t *input, const int8_t *filter, const int32_t *bias,
                                 const hk_dims *output_dims, int8_t *output);
int32_t hk_pointwise_conv2d_s8_get_buffer_size(const hk_dims *input_dims);

hk_status hk_fully_connected_s8(const hk_context *ctx, const hk_fc_params *params,
                                const hk_quant *quant, int32_t input_size, const int8_t *input,
                                int32_t output_size, const int8_t *weights, const int32_t *bias,
                                int8_t *output);
int32_t hk_fully_connected_s8_get_buffer_size(int32_t input_size);

hk_status hk_maxpool2d_s8(const hk_pool_params *params, const hk_dims *input_dims,
                          const int8_t *input, const hk_hw *pool, const hk_dims *output_dims,
                          int8_t *output);

/* Mean of the in-bounds values of each window, rounded half away from zero. */
hk_status hk_avgpool2d_s8(const hk_pool_params *params, const hk_dims *input_dims,
                          const int8_t *input, const hk_hw *pool, const hk_dims *output_dims,
                          int8_t *output);

/* Mean over H and W of the raw int8 values, rounded half away from zero; output has c values. */
hk_status hk_global_avgpool2d_s8(const hk_dims *input_dims, const int8_t *input, int8_t *output);

/* Clamp every value to [activation->min, activation->max]; input may equal output. */
hk_status hk_relu_s8(int32_t size, const int8_t *input, const hk_activation *activation,
                     int8_t *output);

/* Constant padding with `fill` (the input zero point). */
hk_status hk_pad2d_s8(const hk_dims *input_dims, const int8_t *input, const hk_padding *padding,
                      int32_t fill, const hk_dims *output_dims, int8_t *output);

/* Elementwise sum of two int8 tensors of `size` values on different grids. */
hk_status hk_add_s8(const hk_add_params *params, int32_t size, const int8_t *input1, const int8_t *input2,
                    int8_t *output);

/* Softmax over each of `rows` rows of `depth` values; depth must be below 4096 (the Q12.19 sum). */
hk_status hk_softmax_s8(const hk_softmax_params *params, int32_t rows, int32_t depth, const int8_t *input,
                        int8_t *output);

/* output[i] = table[input[i] + 128]; input may equal output. */
hk_status hk_lut_s8(int32_t size, const int8_t *input, const int8_t *table, int8_t *output);

#endif
