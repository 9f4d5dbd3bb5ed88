/* Standalone ReLU / ReLU6 on the int8 grid: a clamp, no requantization. */
#include "hk_nn.h"
#include "hk_requant.h"
#include "hk_weak.h"

HK_WEAK
hk_status hk_relu_s8(int32_t size, const int8_t *input, const hk_activation *activation,
                     int8_t *output)
{
    for (int32_t i = 0; i < size; i++) {
        output[i] = hk_clamp_s8(input[i], activation->min, activation->max);
    }
    return HK_OK;
}
