/* Elementwise add of the dsp variant: hk_add_s8 as in hk_nn.h (TFLite ADD), with the portable
 * kernel's results bit for bit. The caller has checked the parameters (hk_add_s8_check).
 *
 * The reference requantizes each element three times (hk_requantize: a saturating rounding doubling
 * high multiply, then a rounding divide by 2^n):
 *   a = rq((q1 + off1) << L, m1, s1), b = rq((q2 + off2) << L, m2, s2),
 *   out = clamp(rq(a + b, m3, s3) + out_off, lo, hi).
 * Here each requantization is one SMMLAR and one shift (below). a depends on the int8 q1 alone and b
 * on q2 alone, so from HK_DSP_ADD_TABLE_MIN elements on, each input's 256 possible values are
 * requantized once into a table on the stack (2 KiB for both, hk_dsp_add_table), and an element
 * costs two table loads, one SMMLAR and one shift; smaller tensors requantize each element
 * (hk_dsp_add_direct). Parameters outside the ranges the shortcuts are proven for (input shifts
 * whose operands may wrap, an output shift >= 0, sums or an output offset too large for the output
 * stage's SMMLAR) take the reference's arithmetic, still through the tables when there are enough
 * elements.
 *
 * One requantization as one SMMLAR. Let X = 2 * a' where a' is the reference's shifted operand
 * (acc << max(s, 0)), with no wrap and |X| < 2^31, m >= 0, n = max(-s, 0). As in hk_dsp_mac.h,
 * SRDHM(a', m) = floor((a' * m + 2^30) / 2^31) = floor((X * m + 2^31) / 2^32) = y, the rounded high
 * word of X * m (SMMULR), |y| <= 2^30. The rounding divide of y by 2^n (ties away from zero) is
 * (y + h - [y < 0]) >> n with h = 2^(n - 1) for n >= 1 (see hk_dsp_rq_apply), and y for n = 0
 * (h = 0). [y < 0] may be replaced by [X < 0]: y < 0 implies X < 0, and when X < 0 but y = 0 the
 * result is (h - 1) >> n = 0 = rdbpot(0, n) either way. Adding Ra = h - [X < 0 and n >= 1] to the
 * high word is SMMLAR with Ra as accumulator (hk_dsp_smmlar), and |y + Ra| < 2^31, so
 *   rq = smmlar(Ra, X, m) >> n.
 * An offset o added to the result goes into Ra as o * 2^n: (y + Ra + o * 2^n) >> n = rq + o, exact
 * whenever y + Ra + o * 2^n stays within int32. */
#include "hk_dsp_simd.h"
#include "hk_nn.h"
#include "hk_requant.h"

#define HK_DSP_ADD_TABLE_MIN 128 /* elements from which the two tables repay their setup */

/* The reference's requantization (hk_dsp_mac.h's exact form), out of line: the general paths only. */
HK_DSP_NOINLINE int32_t hk_dsp_add_rq(int32_t acc, int32_t multiplier, int32_t shift)
{
    return hk_dsp_requantize_double(acc, multiplier, shift);
}

/* One input's requantizer. k, when > 0, is the shift that makes X = x * 2^k for x = q + off (see the
 * top of the file): it is used only when X fits int32 for every q, |x| <= max(128 - off, off + 127)
 * <= 255, and then the reference's operand x * 2^(L + max(s, 0)) = X / 2 never wraps. */
typedef struct {
    int32_t off;
    int32_t mult;
    int32_t shift;
    int32_t k;   /* L + max(s, 0) + 1, or 0 when X could overflow: the reference's arithmetic */
    int32_t n;   /* max(-s, 0) */
    int32_t h;   /* 2^(n - 1), 0 for n = 0 */
    int32_t fix; /* -1 for n >= 1, else 0: Ra = h + (fix & (X >> 31)) */
} hk_dsp_add_in;

HK_DSP_ALWAYS_INLINE hk_dsp_add_in hk_dsp_add_in_prep(int32_t off, int32_t mult, int32_t shift, int32_t left_shift)
{
    hk_dsp_add_in in = {off, mult, shift, 0, 0, 0, 0};
    const int32_t x_abs = 128 - off > off + 127 ? 128 - off : off + 127;
    const int32_t k = left_shift + (shift > 0 ? shift : 0) + 1; /* <= 54: x_abs << k fits int64 */
    in.k = ((int64_t)x_abs << k) <= INT32_MAX ? k : 0;
    in.n = shift < 0 ? -shift : 0;
    in.h = (int32_t)((1u << in.n) >> 1);
    in.fix = in.n > 0 ? -1 : 0;
    return in;
}

/* The reference's a (or b) for the int8 value q, by its own arithmetic. */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_add_input(const hk_dsp_add_in *in, int32_t left_shift, int32_t q)
{
    return hk_dsp_add_rq((int32_t)((uint32_t)(q + in->off) << left_shift), in->mult, in->shift);
}

/* The same by one SMMLAR, for in->k > 0. */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_add_input_fast(const hk_dsp_add_in *in, int32_t q)
{
    const int32_t x = (int32_t)((uint32_t)(q + in->off) << in->k);
    return hk_dsp_smmlar(in->h + ((x >> 31) & in->fix), x, in->mult) >> in->n;
}

/* t[i] = smmlar(ra, x + i * step, m) >> n << sh for i in [0, count): two entries a step. */
HK_DSP_ALWAYS_INLINE void hk_dsp_add_fill(int32_t *t, int32_t count, uint32_t x, uint32_t step, int32_t ra, int32_t m,
                                          int32_t n, int32_t sh)
{
    if (count & 1) {
        *t++ = (int32_t)((uint32_t)(hk_dsp_smmlar(ra, (int32_t)x, m) >> n) << sh);
        x += step;
    }
    for (int32_t *const end = t + (count & ~1); t < end; t += 2, x += 2 * step) {
        t[0] = (int32_t)((uint32_t)(hk_dsp_smmlar(ra, (int32_t)x, m) >> n) << sh);
        t[1] = (int32_t)((uint32_t)(hk_dsp_smmlar(ra, (int32_t)(x + step), m) >> n) << sh);
    }
}

/* t[i] = a(q) * 2^sh for q = i - 128, i in [0, 256), sh 0 or 1 (a(q) * 2^sh within int32). With
 * k > 0, X steps by 2^k from one entry to the next, and Ra is h - 1 for the 128 - off entries with
 * x < 0 (n >= 1), h for the others. Otherwise each entry is the reference's own arithmetic. */
HK_DSP_NOINLINE void hk_dsp_add_table(int32_t *t, const hk_dsp_add_in *in, int32_t left_shift, int32_t sh)
{
    if (in->k == 0) {
        for (int32_t i = 0; i < 256; i++) {
            t[i] = (int32_t)((uint32_t)hk_dsp_add_input(in, left_shift, i - 128) << sh);
        }
        return;
    }
    const int32_t neg = 128 - in->off;
    const uint32_t step = 1u << in->k, x = (uint32_t)(in->off - 128) << in->k;
    hk_dsp_add_fill(t, neg, x, step, in->h + in->fix, in->mult, in->n, sh);
    hk_dsp_add_fill(t + neg, 256 - neg, x + (uint32_t)neg * step, step, in->h, in->mult, in->n, sh);
}

/* The output stage for s = (a + b) * 2: smmlar(Ra, s, m3) >> n3 with Ra = c3 - [s < 0] and
 * c3 = h3 + out_off * 2^n3 (n3 >= 1): the requantized sum plus the output offset. */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_add_out(int32_t s, int32_t c3, int32_t m3, int32_t n3)
{
    return hk_dsp_smmlar(c3 + (s >> 31), s, m3) >> n3;
}

/* The elements [0, size) through the tables ta and tb (entries a * 2 and b * 2, indexed by q), four
 * at a time, the activation applied when clamp is set (else it is [-128, 127], which SSAT gives). */
HK_DSP_ALWAYS_INLINE void hk_dsp_add_fast(const int32_t *ta, const int32_t *tb, int32_t size, const int8_t *in1,
                                          const int8_t *in2, int8_t *out, int32_t c3, int32_t m3, int32_t n3,
                                          int32_t act_min, int32_t act_max, int clamp)
{
#if HK_DSP_SIMD
    const uint32_t lo4 = hk_dsp_splat4(act_min), hi4 = hk_dsp_splat4(act_max);
    for (int32_t i = size >> 2; i > 0; i--) {
        const uint32_t u = hk_dsp_load4(in1), v = hk_dsp_load4(in2);
        in1 += 4;
        in2 += 4;
        const int32_t r0 = hk_dsp_add_out(ta[(int8_t)u] + tb[(int8_t)v], c3, m3, n3);
        const int32_t r1 = hk_dsp_add_out(ta[(int8_t)(u >> 8)] + tb[(int8_t)(v >> 8)], c3, m3, n3);
        const int32_t r2 = hk_dsp_add_out(ta[(int8_t)(u >> 16)] + tb[(int8_t)(v >> 16)], c3, m3, n3);
        const int32_t r3 = hk_dsp_add_out(ta[(int8_t)(u >> 24)] + tb[(int8_t)(v >> 24)], c3, m3, n3);
        if (clamp) {
            hk_dsp_store4(out, hk_dsp_clamp4(hk_dsp_pack4(r0, r1, r2, r3), lo4, hi4));
        } else {
            out[0] = (int8_t)__ssat(r0, 8);
            out[1] = (int8_t)__ssat(r1, 8);
            out[2] = (int8_t)__ssat(r2, 8);
            out[3] = (int8_t)__ssat(r3, 8);
        }
        out += 4;
    }
    size &= 3;
#else
    (void)clamp;
#endif
    for (int32_t i = 0; i < size; i++) {
        out[i] = hk_dsp_clamp(hk_dsp_add_out(ta[in1[i]] + tb[in2[i]], c3, m3, n3), act_min, act_max);
    }
}

/* Small tensors on the fast path, without tables: a chunk of the first input's a * 2 into a buffer,
 * then the second input's b * 2 added and the output stage, each loop with fewer values to hold. */
HK_DSP_NOINLINE void hk_dsp_add_direct(const hk_dsp_add_in *in1, const hk_dsp_add_in *in2, int32_t size,
                                       const int8_t *input1, const int8_t *input2, int8_t *output, int32_t c3,
                                       int32_t m3, int32_t n3, int32_t act_min, int32_t act_max)
{
    int32_t buf[32];
    while (size > 0) {
        const int32_t chunk = size < 32 ? size : 32;
        {
            const hk_dsp_add_in in = *in1;
            for (int32_t i = 0; i < chunk; i++) {
                buf[i] = hk_dsp_add_input_fast(&in, input1[i]) * 2;
            }
        }
        {
            const hk_dsp_add_in in = *in2;
            for (int32_t i = 0; i < chunk; i++) {
                const int32_t s = buf[i] + hk_dsp_add_input_fast(&in, input2[i]) * 2;
                output[i] = hk_dsp_clamp(hk_dsp_add_out(s, c3, m3, n3), act_min, act_max);
            }
        }
        input1 += chunk;
        input2 += chunk;
        output += chunk;
        size -= chunk;
    }
}

hk_status hk_add_s8(const hk_add_params *params, int32_t size, const int8_t *input1, const int8_t *input2,
                    int8_t *output)
{
    const int32_t left_shift = params->left_shift, out_off = params->output_offset;
    const hk_dsp_add_in in1 =
        hk_dsp_add_in_prep(params->input1_offset, params->input1_multiplier, params->input1_shift, left_shift);
    const hk_dsp_add_in in2 =
        hk_dsp_add_in_prep(params->input2_offset, params->input2_multiplier, params->input2_shift, left_shift);
    const int32_t m3 = params->output_multiplier, s3 = params->output_shift, n3 = -s3;
    const int32_t act_min = params->activation.min, act_max = params->activation.max;
    /* The output stage's fast form needs n3 >= 1 (so no left shift), s = (a + b) * 2 within int32 for
     * every a and b, and y3 + Ra within int32. Where neither input's operand wraps (k > 0), a(q) is
     * non-decreasing in q (both roundings are, for a multiplier >= 0), so the largest |a| is at
     * q = -128 or 127; likewise b. */
    int fast = n3 >= 1 && in1.k > 0 && in2.k > 0;
    int32_t c3 = 0;
    if (fast) {
        const int64_t a0 = hk_dsp_add_input_fast(&in1, -128), a1 = hk_dsp_add_input_fast(&in1, 127);
        const int64_t b0 = hk_dsp_add_input_fast(&in2, -128), b1 = hk_dsp_add_input_fast(&in2, 127);
        const int64_t ab = (-a0 > a1 ? -a0 : a1) + (-b0 > b1 ? -b0 : b1); /* |a + b| at most */
        /* Then |y3| <= (|s| * m3 + 2^31) / 2^32 < |s| * m3 / 2^32 + 1, and Ra is c3 - 1 or c3. */
        const int64_t c = (int64_t)((1u << n3) >> 1) + (int64_t)out_off * ((int64_t)1 << n3);
        fast = ab <= (INT32_MAX >> 1) && ((ab * 2 * m3) >> 32) + 1 + (c < 0 ? -c : c) + 1 <= INT32_MAX;
        c3 = (int32_t)c;
    }
    if (size < HK_DSP_ADD_TABLE_MIN && fast) {
        hk_dsp_add_direct(&in1, &in2, size, input1, input2, output, c3, m3, n3, act_min, act_max);
        return HK_OK;
    }
    if (size < HK_DSP_ADD_TABLE_MIN) {
        for (int32_t i = 0; i < size; i++) {
            const int32_t a = hk_dsp_add_input(&in1, left_shift, input1[i]);
            const int32_t b = hk_dsp_add_input(&in2, left_shift, input2[i]);
            output[i] = hk_dsp_clamp(hk_dsp_add_rq(a + b, m3, s3) + out_off, act_min, act_max);
        }
        return HK_OK;
    }
    int32_t ta[256], tb[256];
    hk_dsp_add_table(ta, &in1, left_shift, fast);
    hk_dsp_add_table(tb, &in2, left_shift, fast);
    const int32_t *const ma = ta + 128, *const mb = tb + 128; /* indexed by q in [-128, 127] */
    if (!fast) {
        for (int32_t i = 0; i < size; i++) {
            output[i] = hk_dsp_clamp(hk_dsp_add_rq(ma[input1[i]] + mb[input2[i]], m3, s3) + out_off, act_min,
                                     act_max);
        }
    } else if (act_min == HK_INT8_MIN && act_max == HK_INT8_MAX) {
        hk_dsp_add_fast(ma, mb, size, input1, input2, output, c3, m3, n3, act_min, act_max, 0);
    } else {
        hk_dsp_add_fast(ma, mb, size, input1, input2, output, c3, m3, n3, act_min, act_max, 1);
    }
    return HK_OK;
}
