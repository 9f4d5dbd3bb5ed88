#include "hk_check.h"

#include "hk_requant.h"

hk_status hk_check_dims(const hk_dims *d)
{
    if (d == 0) {
        return HK_ERR_NULL;
    }
    return (d->h > 0 && d->w > 0 && d->c > 0) ? HK_OK : HK_ERR_DIMS;
}

hk_status hk_check_activation(const hk_activation *a)
{
    if (a == 0) {
        return HK_ERR_NULL;
    }
    if (a->min < HK_INT8_MIN || a->max > HK_INT8_MAX || a->min > a->max) {
        return HK_ERR_QUANT;
    }
    return HK_OK;
}

hk_status hk_check_offsets(int32_t input_offset, int32_t output_offset)
{
    if (input_offset < -HK_INT8_MAX || input_offset > -HK_INT8_MIN) {
        return HK_ERR_QUANT;
    }
    if (output_offset < HK_INT8_MIN || output_offset > HK_INT8_MAX) {
        return HK_ERR_QUANT;
    }
    return HK_OK;
}

hk_status hk_check_quant(const hk_quant *q, int32_t channels)
{
    if (q == 0 || q->multiplier == 0 || q->shift == 0) {
        return HK_ERR_NULL;
    }
    if (q->count != 1 && q->count != channels) {
        return HK_ERR_QUANT;
    }
    if (q->rounding != HK_ROUND_DOUBLE && q->rounding != HK_ROUND_SINGLE) {
        return HK_ERR_QUANT;
    }
    for (int32_t i = 0; i < q->count; i++) {
        if (q->multiplier[i] < 0 || q->shift[i] < HK_SHIFT_MIN || q->shift[i] > HK_SHIFT_MAX) {
            return HK_ERR_QUANT;
        }
    }
    return HK_OK;
}

hk_status hk_check_rescale(const hk_fc_params *params, const hk_quant *quant, int32_t channels)
{
    hk_status st;
    if (params == 0) {
        return HK_ERR_NULL;
    }
    if ((st = hk_check_offsets(params->input_offset, params->output_offset)) != HK_OK ||
        (st = hk_check_activation(&params->activation)) != HK_OK) {
        return st;
    }
    return hk_check_quant(quant, channels);
}

hk_status hk_check_window(const hk_dims *input_dims, int32_t kh, int32_t kw, const hk_hw *stride,
                          const hk_hw *dilation, const hk_padding *padding,
                          const hk_dims *output_dims)
{
    if (kh <= 0 || kw <= 0 || stride->h <= 0 || stride->w <= 0 || dilation->h <= 0 ||
        dilation->w <= 0) {
        return HK_ERR_DIMS;
    }
    if (padding->top < 0 || padding->bottom < 0 || padding->left < 0 || padding->right < 0) {
        return HK_ERR_DIMS;
    }
    const int32_t span_h = input_dims->h + padding->top + padding->bottom - (kh - 1) * dilation->h - 1;
    const int32_t span_w = input_dims->w + padding->left + padding->right - (kw - 1) * dilation->w - 1;
    if (span_h < 0 || span_w < 0) {
        return HK_ERR_DIMS;
    }
    if (output_dims->h != span_h / stride->h + 1 || output_dims->w != span_w / stride->w + 1) {
        return HK_ERR_DIMS;
    }
    return HK_OK;
}

hk_status hk_check_conv(const hk_conv_params *params, const hk_quant *quant, const hk_dims *input_dims,
                        int32_t kh, int32_t kw, const hk_dims *output_dims)
{
    hk_status st;
    if (params == 0) {
        return HK_ERR_NULL;
    }
    if ((st = hk_check_dims(input_dims)) != HK_OK || (st = hk_check_dims(output_dims)) != HK_OK) {
        return st;
    }
    if ((st = hk_check_offsets(params->input_offset, params->output_offset)) != HK_OK) {
        return st;
    }
    if ((st = hk_check_activation(&params->activation)) != HK_OK) {
        return st;
    }
    if ((st = hk_check_quant(quant, output_dims->c)) != HK_OK) {
        return st;
    }
    return hk_check_window(input_dims, kh, kw, &params->stride, &params->dilation,
                           &params->padding, output_dims);
}

hk_status hk_check_pool(const hk_pool_params *params, const hk_dims *input_dims, const hk_hw *pool,
                        const hk_dims *output_dims)
{
    hk_status st;
    if (params == 0 || pool == 0) {
        return HK_ERR_NULL;
    }
    if ((st = hk_check_dims(input_dims)) != HK_OK || (st = hk_check_dims(output_dims)) != HK_OK ||
        (st = hk_check_activation(&params->activation)) != HK_OK) {
        return st;
    }
    if (output_dims->c != input_dims->c) {
        return HK_ERR_DIMS;
    }
    /* A padding as large as the window would leave windows with nothing in them. */
    const hk_padding *pad = &params->padding;
    if (pad->top >= pool->h || pad->bottom >= pool->h || pad->left >= pool->w || pad->right >= pool->w) {
        return HK_ERR_DIMS;
    }
    const hk_hw one = {1, 1};
    return hk_check_window(input_dims, pool->h, pool->w, &params->stride, &one, pad, output_dims);
}

hk_status hk_check_context(const hk_context *ctx, int32_t needed)
{
    if (needed <= 0) {
        return HK_OK;
    }
    if (ctx == 0 || ctx->buf == 0 || ctx->size < needed) {
        return HK_ERR_BUFFER;
    }
    return HK_OK;
}

hk_status hk_check_fully_connected(const hk_context *ctx, const hk_fc_params *params, const hk_quant *quant,
                                   int32_t input_size, const int8_t *input, int32_t output_size,
                                   const int8_t *weights, const int8_t *output, int32_t buffer_size)
{
    if (params == 0 || input == 0 || weights == 0 || output == 0) {
        return HK_ERR_NULL;
    }
    if (input_size <= 0 || output_size <= 0) {
        return HK_ERR_DIMS;
    }
    hk_status st;
    if ((st = hk_check_offsets(params->input_offset, params->output_offset)) != HK_OK ||
        (st = hk_check_activation(&params->activation)) != HK_OK ||
        (st = hk_check_quant(quant, output_size)) != HK_OK) {
        return st;
    }
    return hk_check_context(ctx, buffer_size);
}

hk_status hk_check_pointwise(const hk_context *ctx, const hk_conv_params *params, const hk_quant *quant,
                             const hk_dims *input_dims, const int8_t *input, const int8_t *filter,
                             const hk_dims *output_dims, const int8_t *output, int32_t buffer_size)
{
    if (input == 0 || filter == 0 || output == 0) {
        return HK_ERR_NULL;
    }
    hk_status st = hk_check_conv(params, quant, input_dims, 1, 1, output_dims);
    if (st != HK_OK) {
        return st;
    }
    const hk_padding *pad = &params->padding;
    if (pad->top != 0 || pad->bottom != 0 || pad->left != 0 || pad->right != 0) {
        return HK_ERR_DIMS;
    }
    return hk_check_context(ctx, buffer_size);
}
