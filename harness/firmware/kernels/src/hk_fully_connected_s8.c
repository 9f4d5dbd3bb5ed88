/* Portable int8 fully connected layer, weights [out][in]. */
#include "hk_check.h"
#include "hk_nn.h"
#include "hk_support.h"
#include "hk_weak.h"

/* The scratch this kernel needs for these shapes. Its own check calls this, not the public
 * function below, which a kernel variant may replace (hk_weak.h). */
static int32_t buffer_size(int32_t input_size)
{
    (void)input_size;
    return 0;
}

HK_WEAK
int32_t hk_fully_connected_s8_get_buffer_size(int32_t input_size)
{
    return buffer_size(input_size);
}

HK_WEAK
hk_status hk_fully_connected_s8(const hk_context *ctx, const hk_fc_params *params,
                                const hk_quant *quant, int32_t input_size, const int8_t *input,
                                int32_t output_size, const int8_t *weights, const int32_t *bias,
                                int8_t *output)
{
    const hk_status st = hk_check_fully_connected(ctx, params, quant, input_size, input, output_size, weights,
                                                  output, buffer_size(input_size));
    if (st != HK_OK) {
        return st;
    }
    hk_mat_vec_s8(input, weights, bias, output_size, input_size, params->input_offset,
                  params->output_offset, quant, &params->activation, output);
    return HK_OK;
}
