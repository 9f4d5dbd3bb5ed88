/* The kernels' parameter checks (hk_nn.h: hk_<kernel>_check), one function per kernel, each
 * running its kernel's checks in the documented order and returning the id of the first that
 * fails. They are the contract, not an implementation: never weak, never replaced by a kernel
 * variant. The scratch check asks the kernel's public *_get_buffer_size, so it holds whichever
 * variant the image links. The runner calls them once per layer, before the first timed call. */
#include "hk_check.h"

#include "hk_nn.h"
#include "hk_requant.h"

#define HK_ADD_MAX_LEFT_SHIFT 23 /* (q - zp) spans 9 bits: 9 + 23 stays inside int32 */
#define HK_SOFTMAX_MAX_DEPTH 4095 /* the Q12.19 sum of `depth` values of at most 1.0 stays below 4096 */

hk_status hk_check_status(hk_check_id check)
{
    switch (check) {
    case HK_CHECK_OK:
        return HK_OK;
    case HK_CHECK_POINTER:
        return HK_ERR_NULL;
    case HK_CHECK_DIMS:
    case HK_CHECK_WINDOW:
    case HK_CHECK_OUTPUT_SHAPE:
    case HK_CHECK_CHANNELS:
    case HK_CHECK_LIMIT:
        return HK_ERR_DIMS;
    case HK_CHECK_SCRATCH:
        return HK_ERR_BUFFER;
    default:
        return HK_ERR_QUANT;
    }
}

hk_check_id hk_check_dims(const hk_dims *d)
{
    if (d == 0) {
        return HK_CHECK_POINTER;
    }
    return (d->h > 0 && d->w > 0 && d->c > 0) ? HK_CHECK_OK : HK_CHECK_DIMS;
}

hk_check_id hk_check_activation(const hk_activation *a)
{
    if (a == 0) {
        return HK_CHECK_POINTER;
    }
    if (a->min < HK_INT8_MIN || a->max > HK_INT8_MAX || a->min > a->max) {
        return HK_CHECK_ACTIVATION;
    }
    return HK_CHECK_OK;
}

hk_check_id hk_check_offsets(int32_t input_offset, int32_t output_offset)
{
    if (input_offset < -HK_INT8_MAX || input_offset > -HK_INT8_MIN || output_offset < HK_INT8_MIN ||
        output_offset > HK_INT8_MAX) {
        return HK_CHECK_OFFSET;
    }
    return HK_CHECK_OK;
}

static int requantizer_ok(int32_t multiplier, int32_t shift)
{
    return multiplier >= 0 && shift >= HK_SHIFT_MIN && shift <= HK_SHIFT_MAX;
}

hk_check_id hk_check_quant(const hk_quant *q, int32_t channels)
{
    if (q == 0 || q->multiplier == 0 || q->shift == 0) {
        return HK_CHECK_POINTER;
    }
    if (q->count != 1 && q->count != channels) {
        return HK_CHECK_QUANT_COUNT;
    }
    if (q->rounding != HK_ROUND_DOUBLE && q->rounding != HK_ROUND_SINGLE) {
        return HK_CHECK_ROUNDING;
    }
    for (int32_t i = 0; i < q->count; i++) {
        if (!requantizer_ok(q->multiplier[i], q->shift[i])) {
            return HK_CHECK_REQUANTIZER;
        }
    }
    return HK_CHECK_OK;
}

hk_check_id hk_check_rescale(const hk_fc_params *params, const hk_quant *quant, int32_t channels)
{
    hk_check_id c;
    if (params == 0) {
        return HK_CHECK_POINTER;
    }
    if ((c = hk_check_offsets(params->input_offset, params->output_offset)) != HK_CHECK_OK ||
        (c = hk_check_activation(&params->activation)) != HK_CHECK_OK) {
        return c;
    }
    return hk_check_quant(quant, channels);
}

hk_check_id hk_check_window(const hk_dims *input_dims, int32_t kh, int32_t kw, const hk_hw *stride,
                            const hk_hw *dilation, const hk_padding *padding, const hk_dims *output_dims)
{
    if (kh <= 0 || kw <= 0 || stride->h <= 0 || stride->w <= 0 || dilation->h <= 0 || dilation->w <= 0) {
        return HK_CHECK_WINDOW;
    }
    if (padding->top < 0 || padding->bottom < 0 || padding->left < 0 || padding->right < 0) {
        return HK_CHECK_WINDOW;
    }
    const int32_t span_h = input_dims->h + padding->top + padding->bottom - (kh - 1) * dilation->h - 1;
    const int32_t span_w = input_dims->w + padding->left + padding->right - (kw - 1) * dilation->w - 1;
    if (span_h < 0 || span_w < 0) {
        return HK_CHECK_WINDOW;
    }
    if (output_dims->h != span_h / stride->h + 1 || output_dims->w != span_w / stride->w + 1) {
        return HK_CHECK_OUTPUT_SHAPE;
    }
    return HK_CHECK_OK;
}

hk_check_id hk_check_conv(const hk_conv_params *params, const hk_quant *quant, const hk_dims *input_dims,
                          int32_t kh, int32_t kw, const hk_dims *output_dims)
{
    hk_check_id c;
    if (params == 0) {
        return HK_CHECK_POINTER;
    }
    if ((c = hk_check_dims(input_dims)) != HK_CHECK_OK || (c = hk_check_dims(output_dims)) != HK_CHECK_OK ||
        (c = hk_check_offsets(params->input_offset, params->output_offset)) != HK_CHECK_OK ||
        (c = hk_check_activation(&params->activation)) != HK_CHECK_OK ||
        (c = hk_check_quant(quant, output_dims->c)) != HK_CHECK_OK) {
        return c;
    }
    return hk_check_window(input_dims, kh, kw, &params->stride, &params->dilation, &params->padding, output_dims);
}

hk_check_id hk_check_pool(const hk_pool_params *params, const hk_dims *input_dims, const hk_hw *pool,
                          const hk_dims *output_dims)
{
    hk_check_id c;
    if (params == 0 || pool == 0) {
        return HK_CHECK_POINTER;
    }
    if ((c = hk_check_dims(input_dims)) != HK_CHECK_OK || (c = hk_check_dims(output_dims)) != HK_CHECK_OK ||
        (c = hk_check_activation(&params->activation)) != HK_CHECK_OK) {
        return c;
    }
    if (output_dims->c != input_dims->c) {
        return HK_CHECK_CHANNELS;
    }
    /* A padding as large as the window would leave windows with nothing in them. */
    const hk_padding *pad = &params->padding;
    if (pad->top >= pool->h || pad->bottom >= pool->h || pad->left >= pool->w || pad->right >= pool->w) {
        return HK_CHECK_WINDOW;
    }
    const hk_hw one = {1, 1};
    return hk_check_window(input_dims, pool->h, pool->w, &params->stride, &one, pad, output_dims);
}

hk_check_id hk_check_context(const hk_context *ctx, int32_t needed)
{
    if (needed <= 0) {
        return HK_CHECK_OK;
    }
    if (ctx == 0 || ctx->buf == 0 || ctx->size < needed) {
        return HK_CHECK_SCRATCH;
    }
    return HK_CHECK_OK;
}

/* ---------------------------------------------------------------- one check per kernel (hk_nn.h) */

hk_check_id hk_conv2d_s8_check(const hk_context *ctx, const hk_conv_params *params, const hk_quant *quant,
                               const hk_dims *input_dims, const int8_t *input, const hk_dims *filter_dims,
                               const int8_t *filter, const int32_t *bias, const hk_dims *output_dims,
                               int8_t *output)
{
    (void)bias;
    if (input == 0 || filter == 0 || output == 0 || filter_dims == 0) {
        return HK_CHECK_POINTER;
    }
    hk_check_id c = hk_check_conv(params, quant, input_dims, filter_dims->h, filter_dims->w, output_dims);
    if (c != HK_CHECK_OK) {
        return c;
    }
    if (filter_dims->c != input_dims->c) {
        return HK_CHECK_CHANNELS;
    }
    return hk_check_context(ctx, hk_conv2d_s8_get_buffer_size(input_dims, filter_dims));
}

hk_check_id hk_depthwise_conv2d_s8_check(const hk_context *ctx, const hk_conv_params *params,
                                         const hk_quant *quant, const hk_dims *input_dims, const int8_t *input,
                                         const hk_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                         const hk_dims *output_dims, int8_t *output)
{
    (void)bias;
    if (input == 0 || filter == 0 || output == 0 || filter_dims == 0) {
        return HK_CHECK_POINTER;
    }
    hk_check_id c = hk_check_conv(params, quant, input_dims, filter_dims->h, filter_dims->w, output_dims);
    if (c != HK_CHECK_OK) {
        return c;
    }
    if (filter_dims->c != input_dims->c || output_dims->c % input_dims->c != 0) {
        return HK_CHECK_CHANNELS;
    }
    return hk_check_context(ctx, hk_depthwise_conv2d_s8_get_buffer_size(input_dims, filter_dims));
}

hk_check_id hk_pointwise_conv2d_s8_check(const hk_context *ctx, const hk_conv_params *params,
                                         const hk_quant *quant, const hk_dims *input_dims, const int8_t *input,
                                         const int8_t *filter, const int32_t *bias, const hk_dims *output_dims,
                                         int8_t *output)
{
    (void)bias;
    if (input == 0 || filter == 0 || output == 0) {
        return HK_CHECK_POINTER;
    }
    hk_check_id c = hk_check_conv(params, quant, input_dims, 1, 1, output_dims);
    if (c != HK_CHECK_OK) {
        return c;
    }
    const hk_padding *pad = &params->padding;
    if (pad->top != 0 || pad->bottom != 0 || pad->left != 0 || pad->right != 0) {
        return HK_CHECK_WINDOW;
    }
    return hk_check_context(ctx, hk_pointwise_conv2d_s8_get_buffer_size(input_dims));
}

hk_check_id hk_fully_connected_s8_check(const hk_context *ctx, const hk_fc_params *params, const hk_quant *quant,
                                        int32_t input_size, const int8_t *input, int32_t output_size,
                                        const int8_t *weights, const int32_t *bias, int8_t *output)
{
    (void)bias;
    if (params == 0 || input == 0 || weights == 0 || output == 0) {
        return HK_CHECK_POINTER;
    }
    if (input_size <= 0 || output_size <= 0) {
        return HK_CHECK_DIMS;
    }
    hk_check_id c;
    if ((c = hk_check_offsets(params->input_offset, params->output_offset)) != HK_CHECK_OK ||
        (c = hk_check_activation(&params->activation)) != HK_CHECK_OK ||
        (c = hk_check_quant(quant, output_size)) != HK_CHECK_OK) {
        return c;
    }
    return hk_check_context(ctx, hk_fully_connected_s8_get_buffer_size(input_size));
}

hk_check_id hk_maxpool2d_s8_check(const hk_pool_params *params, const hk_dims *input_dims, const int8_t *input,
                                  const hk_hw *pool, const hk_dims *output_dims, int8_t *output)
{
    if (input == 0 || output == 0) {
        return HK_CHECK_POINTER;
    }
    return hk_check_pool(params, input_dims, pool, output_dims);
}

hk_check_id hk_avgpool2d_s8_check(const hk_pool_params *params, const hk_dims *input_dims, const int8_t *input,
                                  const hk_hw *pool, const hk_dims *output_dims, int8_t *output)
{
    return hk_maxpool2d_s8_check(params, input_dims, input, pool, output_dims, output);
}

hk_check_id hk_global_avgpool2d_s8_check(const hk_dims *input_dims, const int8_t *input, int8_t *output)
{
    if (input == 0 || output == 0) {
        return HK_CHECK_POINTER;
    }
    return hk_check_dims(input_dims);
}

hk_check_id hk_mean_hw_s8_check(const hk_context *ctx, const hk_fc_params *params, const hk_quant *quant,
                                const hk_dims *input_dims, const int8_t *input, int8_t *output)
{
    if (input == 0 || output == 0) {
        return HK_CHECK_POINTER;
    }
    hk_check_id c = hk_check_dims(input_dims);
    if (c != HK_CHECK_OK) {
        return c;
    }
    /* H * W <= 2^23, tested without forming a product that could overflow */
    if (input_dims->h > HK_MEAN_HW_MAX_COUNT / input_dims->w) {
        return HK_CHECK_LIMIT;
    }
    if ((c = hk_check_rescale(params, quant, input_dims->c)) != HK_CHECK_OK) {
        return c;
    }
    return hk_check_context(ctx, hk_mean_hw_s8_get_buffer_size(input_dims));
}

hk_check_id hk_requantize_s8_check(const hk_context *ctx, const hk_fc_params *params, const hk_quant *quant,
                                   int32_t size, const int8_t *input, int8_t *output)
{
    if (input == 0 || output == 0) {
        return HK_CHECK_POINTER;
    }
    if (size <= 0) {
        return HK_CHECK_DIMS;
    }
    hk_check_id c = hk_check_rescale(params, quant, 1);
    if (c != HK_CHECK_OK) {
        return c;
    }
    return hk_check_context(ctx, hk_requantize_s8_get_buffer_size(size));
}

hk_check_id hk_relu_s8_check(int32_t size, const int8_t *input, const hk_activation *activation, int8_t *output)
{
    if (input == 0 || output == 0) {
        return HK_CHECK_POINTER;
    }
    if (size <= 0) {
        return HK_CHECK_DIMS;
    }
    return hk_check_activation(activation);
}

hk_check_id hk_pad2d_s8_check(const hk_dims *input_dims, const int8_t *input, const hk_padding *padding,
                              int32_t fill, const hk_dims *output_dims, int8_t *output)
{
    hk_check_id c;
    if (input == 0 || padding == 0 || output == 0) {
        return HK_CHECK_POINTER;
    }
    if ((c = hk_check_dims(input_dims)) != HK_CHECK_OK || (c = hk_check_dims(output_dims)) != HK_CHECK_OK) {
        return c;
    }
    if (fill < HK_INT8_MIN || fill > HK_INT8_MAX) {
        return HK_CHECK_PARAMETER;
    }
    if (padding->top < 0 || padding->bottom < 0 || padding->left < 0 || padding->right < 0) {
        return HK_CHECK_WINDOW;
    }
    if (output_dims->h != input_dims->h + padding->top + padding->bottom ||
        output_dims->w != input_dims->w + padding->left + padding->right || output_dims->c != input_dims->c) {
        return HK_CHECK_OUTPUT_SHAPE;
    }
    return HK_CHECK_OK;
}

hk_check_id hk_add_s8_check(const hk_add_params *params, int32_t size, const int8_t *input1, const int8_t *input2,
                            int8_t *output)
{
    hk_check_id c;
    if (params == 0 || input1 == 0 || input2 == 0 || output == 0) {
        return HK_CHECK_POINTER;
    }
    if (size <= 0) {
        return HK_CHECK_DIMS;
    }
    if ((c = hk_check_offsets(params->input1_offset, params->output_offset)) != HK_CHECK_OK ||
        (c = hk_check_offsets(params->input2_offset, params->output_offset)) != HK_CHECK_OK ||
        (c = hk_check_activation(&params->activation)) != HK_CHECK_OK) {
        return c;
    }
    if (!requantizer_ok(params->input1_multiplier, params->input1_shift) ||
        !requantizer_ok(params->input2_multiplier, params->input2_shift) ||
        !requantizer_ok(params->output_multiplier, params->output_shift)) {
        return HK_CHECK_REQUANTIZER;
    }
    if (params->left_shift < 0 || params->left_shift > HK_ADD_MAX_LEFT_SHIFT) {
        return HK_CHECK_PARAMETER;
    }
    return HK_CHECK_OK;
}

hk_check_id hk_softmax_s8_check(const hk_softmax_params *params, int32_t rows, int32_t depth, const int8_t *input,
                                int8_t *output)
{
    if (params == 0 || input == 0 || output == 0) {
        return HK_CHECK_POINTER;
    }
    if (rows <= 0 || depth <= 0) {
        return HK_CHECK_DIMS;
    }
    if (depth > HK_SOFTMAX_MAX_DEPTH) {
        return HK_CHECK_LIMIT;
    }
    if (params->input_multiplier < 0 || params->input_left_shift < 0 || params->input_left_shift > 31 ||
        params->diff_min > 0) {
        return HK_CHECK_PARAMETER;
    }
    return HK_CHECK_OK;
}

hk_check_id hk_lut_s8_check(int32_t size, const int8_t *input, const int8_t *table, int8_t *output)
{
    if (input == 0 || table == 0 || output == 0) {
        return HK_CHECK_POINTER;
    }
    return size > 0 ? HK_CHECK_OK : HK_CHECK_DIMS;
}
