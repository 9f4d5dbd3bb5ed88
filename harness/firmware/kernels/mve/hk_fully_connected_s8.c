/* Fully connected layer of the mve variant: hk_fully_connected_s8 as in hk_nn.h, the portable
 * kernel's results bit for bit, through the mve hk_mat_vec_s8 (hk_mat_vec_s8.c). */
#include "hk_nn.h"
#include "hk_support.h"

/* No scratch: the weight sums the input offset needs are taken along with the products. */
int32_t hk_fully_connected_s8_get_buffer_size(int32_t input_size)
{
    (void)input_size;
    return 0;
}

hk_status hk_fully_connected_s8(const hk_context *ctx, const hk_fc_params *params, const hk_quant *quant,
                                int32_t input_size, const int8_t *input, int32_t output_size, const int8_t *weights,
                                const int32_t *bias, int8_t *output)
{
    (void)ctx;
    hk_mat_vec_s8(input, weights, bias, output_size, input_size, params->input_offset, params->output_offset,
                  quant, &params->activation, output);
    return HK_OK;
}
