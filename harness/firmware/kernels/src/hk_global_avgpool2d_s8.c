/* Portable int8 global average pooling: integer mean of the raw values, rounded half away. */
#include "hk_nn.h"
#include "hk_requant.h"
#include "hk_weak.h"

HK_WEAK
hk_status hk_global_avgpool2d_s8(const hk_dims *input_dims, const int8_t *input, int8_t *output)
{
    const int32_t count = input_dims->h * input_dims->w, c = input_dims->c;
    for (int32_t ch = 0; ch < c; ch++) {
        int32_t sum = 0;
        for (int32_t i = 0; i < count; i++) {
            sum += input[i * c + ch];
        }
        const int32_t mean = sum >= 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
        output[ch] = hk_clamp_s8(mean, HK_INT8_MIN, HK_INT8_MAX);
    }
    return HK_OK;
}
