/* Inner routines shared by several kernels (the CMSIS-NN pattern of arm_nn_* helpers). */
#ifndef HK_SUPPORT_H
#define HK_SUPPORT_H

#include "hk_nn_types.h"

/* output[r] = clamp(requantize(bias[r] + sum_i weights[r][i] * (input[i] + input_offset))
 *                   + output_offset) for r in [0, rows); weights are row-major [rows][cols].
 * Parameters are not checked: the calling kernel has done that. */
void hk_mat_vec_s8(const int8_t *input, const int8_t *weights, const int32_t *bias, int32_t rows,
                   int32_t cols, int32_t input_offset, int32_t output_offset, const hk_quant *quant,
                   const hk_activation *activation, int8_t *output);

#endif
