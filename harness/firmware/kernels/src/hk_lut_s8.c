/* int8 lookup-table activation (sigmoid, tanh): the table is built on the host. */
#include "hk_nn.h"
#include "hk_weak.h"

HK_WEAK
hk_status hk_lut_s8(int32_t size, const int8_t *input, const int8_t *table, int8_t *output)
{
    if (input == 0 || table == 0 || output == 0) {
        return HK_ERR_NULL;
    }
    if (size <= 0) {
        return HK_ERR_DIMS;
    }
    for (int32_t i = 0; i < size; i++) {
        output[i] = table[(int32_t)input[i] + 128];
    }
    return HK_OK;
}
