/* Dot products of int8 rows for the mve variant's dense, 1x1 and 2-D convolutions: VMLADAVA.S8
 * multiplies 16 int8 pairs and adds the 16 products to a 32-bit scalar accumulator.
 *
 * Exactness. The reference sums bias + sum_k w[k] * (x[k] + input_offset) in int32 under -fwrapv:
 * that sum modulo 2^32. Here it is split as bias + sum_k w[k] * x[k] + input_offset * sum_k w[k],
 * every product and sum again taken modulo 2^32 (VMLADAVA and VADDVA add modulo 2^32, a product of
 * two int8 is exact): the same residue, as multiplication distributes and addition commutes modulo
 * 2^32. A tap in the padding of a convolution holds the input zero point -input_offset (an int8,
 * since input_offset is in [-127, 128]), so that its terms w * (-input_offset) + input_offset * w
 * cancel: it adds nothing, as in the reference. In a last incomplete group of 16 the weights are
 * loaded with predication: the lanes past the row read nothing and hold 0, so their products are 0
 * whatever the inputs' lanes hold (inputs predicated too, or a patch's zero padding). Both the sum of
 * products and the weight sum (VADDVA) are over exactly the row's taps.
 *
 * Static inline only; no data. */
#ifndef HK_MVE_DOT_H
#define HK_MVE_DOT_H

#include "hk_mve.h"

#if HK_MVE

/* s[0] = w0 . x and s[1] = w1 . x over k taps, and sw[i] = the sum of row i's weights. */
HK_MVE_INLINE void hk_mve_dot1x2_sum(const int8_t *w0, const int8_t *w1, const int8_t *x, int32_t k, int32_t *s,
                                     int32_t *sw)
{
    int32_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
    for (int32_t n = k >> 4; n > 0; n--) {
        const int8x16_t xv = vldrbq_s8(x);
        const int8x16_t v0 = vldrbq_s8(w0);
        const int8x16_t v1 = vldrbq_s8(w1);
        x += 16;
        w0 += 16;
        w1 += 16;
        a0 = vmladavaq_s8(a0, v0, xv);
        b0 = vaddvaq_s8(b0, v0);
        a1 = vmladavaq_s8(a1, v1, xv);
        b1 = vaddvaq_s8(b1, v1);
    }
    if (k & 15) {
        const mve_pred16_t p = vctp8q((uint32_t)(k & 15));
        const int8x16_t xv = vldrbq_z_s8(x, p);
        const int8x16_t v0 = vldrbq_z_s8(w0, p);
        const int8x16_t v1 = vldrbq_z_s8(w1, p);
        a0 = vmladavaq_s8(a0, v0, xv);
        b0 = vaddvaq_s8(b0, v0);
        a1 = vmladavaq_s8(a1, v1, xv);
        b1 = vaddvaq_s8(b1, v1);
    }
    s[0] = a0;
    s[1] = a1;
    sw[0] = b0;
    sw[1] = b1;
}

/* The sum of a row's k weights. */
HK_MVE_INLINE int32_t hk_mve_row_sum(const int8_t *w, int32_t k)
{
    int32_t s = 0;
    for (int32_t n = k >> 4; n > 0; n--, w += 16) {
        s = vaddvaq_s8(s, vldrbq_s8(w));
    }
    if (k & 15) {
        s = vaddvaq_s8(s, vldrbq_z_s8(w, vctp8q((uint32_t)(k & 15))));
    }
    return s;
}

#endif /* HK_MVE */

#endif
