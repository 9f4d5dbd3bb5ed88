/* int8 lookup-table activation (sigmoid, tanh): the table is built on the host. */
#include "hk_nn.h"
#include "hk_weak.h"

HK_WEAK
hk_status hk_lut_s8(int32_t size, const int8_t *input, const int8_t *table, int8_t *output)
{
    for (int32_t i = 0; i < size; i++) {
        output[i] = table[(int32_t)input[i] + 128];
    }
    return HK_OK;
}
