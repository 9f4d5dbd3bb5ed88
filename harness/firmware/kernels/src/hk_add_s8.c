/* Portable int8 elementwise add of two tensors on different grids (TFLite ADD semantics). */
#include "hk_nn.h"
#include "hk_requant.h"
#include "hk_weak.h"

HK_WEAK
hk_status hk_add_s8(const hk_add_params *params, int32_t size, const int8_t *input1, const int8_t *input2,
                    int8_t *output)
{
    for (int32_t i = 0; i < size; i++) {
        const uint32_t a_shifted = (uint32_t)((int32_t)input1[i] + params->input1_offset) << params->left_shift;
        const uint32_t b_shifted = (uint32_t)((int32_t)input2[i] + params->input2_offset) << params->left_shift;
        const int32_t a = hk_requantize((int32_t)a_shifted, params->input1_multiplier, params->input1_shift);
        const int32_t b = hk_requantize((int32_t)b_shifted, params->input2_multiplier, params->input2_shift);
        const int32_t sum = hk_requantize(a + b, params->output_multiplier, params->output_shift);
        output[i] = hk_clamp_s8(sum + params->output_offset, params->activation.min, params->activation.max);
    }
    return HK_OK;
}
