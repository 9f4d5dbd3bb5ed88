/* Standalone ReLU / ReLU6 on the int8 grid: a clamp, no requantization. */
#include "hk_check.h"
#include "hk_nn.h"
#include "hk_requant.h"
#include "hk_weak.h"

HK_WEAK
hk_status hk_relu_s8(int32_t size, const int8_t *input, const hk_activation *activation,
                     int8_t *output)
{
    if (input == 0 || output == 0) {
        return HK_ERR_NULL;
    }
    if (size <= 0) {
        return HK_ERR_DIMS;
    }
    hk_status st = hk_check_activation(activation);
    if (st != HK_OK) {
        return st;
    }
    for (int32_t i = 0; i < size; i++) {
        output[i] = hk_clamp_s8(input[i], activation->min, activation->max);
    }
    return HK_OK;
}
