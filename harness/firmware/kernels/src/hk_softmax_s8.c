/* Portable int8 softmax, bit-exact with TFLite's reference integer kernel: gemmlowp fixed point,
 * Q5.26 differences, exp on [-1/4, 0) by a Taylor polynomial and a barrel of exp(-2^k) factors,
 * the Q12.19 sum inverted by three Newton-Raphson steps. Output grid 1/256, -128. */
#include "hk_nn.h"
#include "hk_requant.h"
#include "hk_weak.h"

#define DIFF_INTEGER_BITS 5
#define SUM_INTEGER_BITS 12

/* gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent. */
static int32_t sat_shift_left(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* exp(a) for a Q0.31 value in [-1/4, 0): Taylor expansion around -1/8. */
static int32_t exp_quarter_interval(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668;
    const int32_t one_third = 715827883;
    const int32_t x = a + (1 << 28);
    const int32_t x2 = hk_srdhm(x, x);
    const int32_t x3 = hk_srdhm(x2, x);
    const int32_t x4 = hk_srdhm(x2, x2);
    const int32_t x4_over_4 = hk_rdbpot(x4, 2);
    const int32_t poly = hk_rdbpot(hk_srdhm(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + hk_srdhm(exp_minus_one_eighth, x + poly);
}

/* exp(a) in Q0.31 for a <= 0 in Q5.26. */
static int32_t exp_on_negative_values(int32_t a)
{
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t frac_bits = 31 - DIFF_INTEGER_BITS;
    const int32_t quarter = 1 << (frac_bits - 2);
    const int32_t a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter;
    int32_t result = exp_quarter_interval(sat_shift_left(a_mod_quarter_minus_quarter, DIFF_INTEGER_BITS));
    const int32_t remainder = a_mod_quarter_minus_quarter - a;
    for (int32_t k = 0; k < 7; k++) {
        if (remainder & (1 << (frac_bits - 2 + k))) {
            result = hk_srdhm(result, barrel[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a Q0.31 value in [0, 1), Q0.31 result (Newton-Raphson). */
static int32_t one_over_one_plus_x(int32_t a)
{
    const int64_t total = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((total + 1) / 2);
    int32_t x = 1515870810 + hk_srdhm(half_denominator, -1010580540); /* 48/17 - 32/17 d, Q2.29 */
    for (int i = 0; i < 3; i++) {
        const int32_t one_minus = (1 << 29) - hk_srdhm(half_denominator, x);
        x = x + sat_shift_left(hk_srdhm(x, one_minus), 2);
    }
    return sat_shift_left(x, 1);
}

static int32_t scaled_diff(int32_t diff, const hk_softmax_params *params)
{
    const int32_t shifted = (int32_t)((uint32_t)diff << params->input_left_shift);
    return hk_srdhm(shifted, params->input_multiplier);
}

HK_WEAK
hk_status hk_softmax_s8(const hk_softmax_params *params, int32_t rows, int32_t depth, const int8_t *input,
                        int8_t *output)
{
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *x = input + r * depth;
        int8_t *y = output + r * depth;
        int32_t max = HK_INT8_MIN;
        for (int32_t i = 0; i < depth; i++) {
            max = x[i] > max ? x[i] : max;
        }
        int32_t sum = 0;
        for (int32_t i = 0; i < depth; i++) {
            const int32_t diff = x[i] - max;
            if (diff >= params->diff_min) {
                sum += hk_rdbpot(exp_on_negative_values(scaled_diff(diff, params)), SUM_INTEGER_BITS);
            }
        }
        const int32_t headroom_plus_one = __builtin_clz((uint32_t)sum);
        const int32_t bits_over_unit = SUM_INTEGER_BITS - headroom_plus_one;
        const int32_t shifted_sum_minus_one = (int32_t)(((uint32_t)sum << headroom_plus_one) - (1u << 31));
        const int32_t scale = one_over_one_plus_x(shifted_sum_minus_one);
        for (int32_t i = 0; i < depth; i++) {
            const int32_t diff = x[i] - max;
            if (diff >= params->diff_min) {
                const int32_t e = exp_on_negative_values(scaled_diff(diff, params));
                const int32_t v = hk_rdbpot(hk_srdhm(scale, e), bits_over_unit + 31 - 8) - 128;
                y[i] = hk_clamp_s8(v, HK_INT8_MIN, HK_INT8_MAX);
            } else {
                y[i] = HK_INT8_MIN;
            }
        }
    }
    return HK_OK;
}
