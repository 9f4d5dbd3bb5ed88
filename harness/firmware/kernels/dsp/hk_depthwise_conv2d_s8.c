/* Depthwise convolution of the dsp variant: hk_depthwise_conv2d_s8 as in hk_nn.h, with the same
 * results as the portable kernel and its multiply-accumulates on the DSP extension (hk_dsp_mac.h).
 * The caller has checked the arguments (hk_depthwise_conv2d_s8_check); nothing here checks them.
 *
 * Output channels go in groups of four lanes, the outer loop, so that a group's filter taps (sign-
 * extended into halfword pairs), biases and requantizers are prepared once, on the stack, for all
 * its output pixels. Per pixel and tap: one input load, its sign extension with the input offset
 * added (SXTAB16, into two halfword pairs), one LDRD of the prepared filter pairs and four SMLAxy,
 * each a 16x16 product of its own lane added to that lane's accumulator (the channels are
 * independent, so the pair-summing SMLAD does not apply). The paths differ in how a tap's inputs
 * fill the lanes:
 * - multiplier 1, four channels or more: four consecutive channels, one LDR (bytes 0 and 2 one
 *   pair, 1 and 3 the other);
 * - multiplier 2, two input channels or more: two input channels, each feeding two lanes, one LDRH;
 * - any other multiplier, or fewer channels: one input channel feeding up to four lanes, one LDRB.
 * Channels beyond a multiple of the group go in a last group that overlaps the one before (those
 * outputs are written twice, with the same values).
 * A 3x3 filter with multiplier 1 (any stride, dilation, padding) has its taps unrolled: all nine,
 * without the input offset, for the pixels whose window lies inside the input; the rows and
 * columns inside the input for the others. Every other filter takes the tap loop over the taps
 * inside the input. Either way the taps in the padding are skipped: they add nothing.
 * The outputs are requantized with one SMLAL each (hk_dsp_depthwise.h) when every channel of the
 * group has a usual scale and bounded sums, else with hk_dsp_rq_apply.
 *
 * Exactness. Every product is w * (x + input_offset) with w in [-128, 127] and x + input_offset in
 * [-255, 255], both exact in a signed halfword (SXTAB16 adds the offset halfword-wise, without
 * overflow); SMLAxy adds the exact product to the accumulator modulo 2^32, as the reference's int32
 * sum does under -fwrapv, so any order of the same products gives the same accumulator. The 3x3
 * path sums w * x and starts from bias + input_offset * sum(w): the same sum modulo 2^32.
 *
 * Scratch: none (get_buffer_size is 0). The group's buffers are on the stack (about 700 bytes),
 * bounded by HK_DW_MAX_TAPS; filters of more taps take the plain loop. */
#include "hk_dsp_depthwise.h"
#include "hk_dsp_mac.h"
#include "hk_nn.h"

/* Filter taps (KH * KW) a group's stack buffer holds: 8 bytes each (512 bytes). */
#define HK_DW_MAX_TAPS 64

/* No scratch: the kernel's buffers are on its stack. */
int32_t hk_depthwise_conv2d_s8_get_buffer_size(const hk_dims *input_dims, const hk_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

/* The plain loop, output by output, as the portable kernel's: without the DSP extension, and for
 * filters of more taps than the group buffer holds. Out of line, so that it keeps its registers. */
static __attribute__((noinline)) void hk_dw_plain(const hk_conv_params *params, const hk_quant *quant,
                                                  const hk_dims *input_dims, const int8_t *input,
                                                  const hk_dims *filter_dims, const int8_t *filter,
                                                  const int32_t *bias, const hk_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t out_c = output_dims->c, mult = out_c / in_c;
    const int32_t kh = filter_dims->h, kw = filter_dims->w;
    const int32_t qstep = quant->count > 1 ? 1 : 0;
    const int32_t input_offset = params->input_offset;
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        const int32_t y0 = oy * params->stride.h - params->padding.top;
        for (int32_t ox = 0; ox < output_dims->w; ox++) {
            const int32_t x0 = ox * params->stride.w - params->padding.left;
            for (int32_t oc = 0; oc < out_c; oc++) {
                const int8_t *x = input + oc / mult;
                int32_t acc = bias ? bias[oc] : 0;
                for (int32_t ky = 0; ky < kh; ky++) {
                    const int32_t iy = y0 + ky * params->dilation.h;
                    if (iy < 0 || iy >= in_h) {
                        continue;
                    }
                    for (int32_t kx = 0; kx < kw; kx++) {
                        const int32_t ix = x0 + kx * params->dilation.w;
                        if (ix < 0 || ix >= in_w) {
                            continue;
                        }
                        acc += (int32_t)filter[(ky * kw + kx) * out_c + oc] *
                               ((int32_t)x[(iy * in_w + ix) * in_c] + input_offset);
                    }
                }
                const int32_t q = oc * qstep;
                const int32_t v = hk_requantize_rounding(acc, quant->multiplier[q], quant->shift[q], quant->rounding);
                output[(oy * output_dims->w + ox) * out_c + oc] =
                    hk_clamp_s8(v + params->output_offset, params->activation.min, params->activation.max);
            }
        }
    }
}

#if HK_DSP_SIMD

/* How a tap's inputs fill a group's lanes (see the top of the file). */
#define HK_DW_X4 0 /* lanes 0..3 from input channels ic..ic + 3 */
#define HK_DW_X2 1 /* lanes 0, 1 from channel ic; lanes 2, 3 from ic + 1 */
#define HK_DW_X1 2 /* every lane from channel ic */

/* How a group's outputs are requantized: hk_dsp_depthwise.h's one multiply-accumulate per output
 * (double or single rounding), or hk_dsp_rq_apply for the scales and sums that one does not cover. */
#define HK_DW_RQ_GEN 0
#define HK_DW_RQ_DOUBLE 1
#define HK_DW_RQ_SINGLE 2
#define HK_DW_RQ_ANY 3 /* a copy of the loops for any of the three, told by the group (its cls) */

/* The geometry of one call. */
typedef struct {
    const int8_t *input;
    int8_t *output;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t kh, kw;
    int32_t sh, sw, dh, dw;
    int32_t pad_top, pad_left;
    int32_t row_step; /* input bytes between filter rows: dh * in_w * in_c */
    int32_t col_step; /* input bytes between filter columns: dw * in_c */
    int32_t input_offset;
    int32_t off2; /* the input offset in both halfwords */
    int32_t output_offset;
    uint32_t lo4, hi4;    /* the activation bounds in every byte */
    int32_t ox_lo, ox_hi; /* 3x3: the output columns whose window lies inside the input's columns */
} hk_dw_shape;

/* A group's lanes, prepared once for all its pixels: the biases (and for the 3x3 path the biases
 * plus the input offset times each lane's filter sum), the requantizers, and per tap the filter
 * pair (lane 0, lane 2) then (lane 1, lane 3), sign-extended halfwords. Lanes past the group's last
 * channel hold zero weights and lane 0's bias and requantizers: summed, never stored. */
typedef struct {
    int32_t bias[4] __attribute__((aligned(8)));
    int32_t bias3x3[4] __attribute__((aligned(8)));
    hk_dw_rq fast[4] __attribute__((aligned(8)));
    hk_dsp_rq gen[4];
    int32_t rounding;
    int32_t cls; /* HK_DW_RQ_GEN, _DOUBLE or _SINGLE */
    int32_t w[2 * HK_DW_MAX_TAPS] __attribute__((aligned(8)));
} hk_dw_group;

typedef struct {
    int32_t a0, a1, a2, a3;
} hk_dw_acc;

/* A tap's inputs as the two halfword pairs the lanes multiply: xe feeds lanes 0 (bottom) and 2
 * (top), xo lanes 1 and 3. p is the input channel ic of the tap's pixel. */
HK_DSP_ALWAYS_INLINE void hk_dw_load(const int8_t *p, int32_t mode, int32_t off2, int32_t *xe, int32_t *xo)
{
    if (mode == HK_DW_X4) {
        const uint32_t u = hk_dsp_load4(p);
        *xe = hk_dsp_sxtab16_even(off2, u);
        *xo = hk_dsp_sxtab16_odd(off2, u);
    } else if (mode == HK_DW_X2) {
        uint16_t h;
        __builtin_memcpy(&h, p, sizeof h);
        const uint32_t u = h;
        *xe = *xo = hk_dsp_sxtab16_even(off2, u | (u << 8)); /* bytes 0 and 2: channels ic, ic + 1 */
    } else {
        const uint32_t u = (uint8_t)*p;
        *xe = *xo = hk_dsp_sxtab16_even(off2, u | (u << 16));
    }
}

/* Each lane's accumulator plus its own 16x16 product: the filter pair at *f (advanced past it)
 * times the input pairs. */
HK_DSP_ALWAYS_INLINE void hk_dw_mac(hk_dw_acc *a, const int32_t **f, int32_t xe, int32_t xo)
{
    int32_t fe, fo;
    hk_dsp_load2_next(f, &fe, &fo);
    a->a0 = __smlabb(fe, xe, a->a0);
    a->a2 = __smlatt(fe, xe, a->a2);
    a->a1 = __smlabb(fo, xo, a->a1);
    a->a3 = __smlatt(fo, xo, a->a3);
}

/* One tap, its inputs at p. */
HK_DSP_ALWAYS_INLINE void hk_dw_tap(hk_dw_acc *a, const int8_t *p, const int32_t **f, int32_t mode, int32_t off2)
{
    int32_t xe, xo;
    hk_dw_load(p, mode, off2, &xe, &xo);
    hk_dw_mac(a, f, xe, xo);
}

/* One tap of the 3x3 path: four channels at p + K * col_step (K = 0, 1, 2), sign-extended with the
 * input offset added (OFF = 1) or left to the bias (OFF = 0, bias3x3), times the filter pairs at f
 * (advanced past them): hk_dw_tap's work in one asm block, because the compiler otherwise
 * precomputes every tap's address and keeps them on the stack, as it does the loads it hoists.
 * Twelve registers: an unoptimized build (which keeps one for its frame) takes hk_dw_tap itself. */
#if defined(__OPTIMIZE__)
#define HK_DW_TAP3(acc_, p_, cs_, off2_, f_, K, OFF)                                                   \
    do {                                                                                               \
        int32_t u_, xe_, fe_, fo_;                                                                     \
        __asm__("ldr %[u], " HK_DW_AT##K "\n\t"                                                        \
                "ldrd %[fe], %[fo], [%[f]], #8\n\t" HK_DW_EXT##OFF "\n\t"                              \
                "smlabb %[a0], %[fe], %[xe], %[a0]\n\t"                                                \
                "smlatt %[a2], %[fe], %[xe], %[a2]\n\t"                                                \
                "smlabb %[a1], %[fo], %[u], %[a1]\n\t"                                                 \
                "smlatt %[a3], %[fo], %[u], %[a3]"                                                     \
                : [u] "=&r"(u_), [xe] "=&r"(xe_), [fe] "=&r"(fe_), [fo] "=&r"(fo_), [f] "+r"(f_),       \
                  [a0] "+r"((acc_).a0), [a1] "+r"((acc_).a1), [a2] "+r"((acc_).a2), [a3] "+r"((acc_).a3) \
                : [p] "r"(p_), [cs] "r"(cs_), [off2] "r"(off2_)                                        \
                : "memory");                                                                           \
    } while (0)
#else
#define HK_DW_TAP3(acc_, p_, cs_, off2_, f_, K, OFF) \
    hk_dw_tap(&(acc_), (p_) + (K) * (cs_), &(f_), HK_DW_X4, (OFF) ? (off2_) : 0)
#endif
#define HK_DW_AT0 "[%[p]]"
#define HK_DW_AT1 "[%[p], %[cs]]"
#define HK_DW_AT2 "[%[p], %[cs], lsl #1]"
#define HK_DW_EXT0 "sxtb16 %[xe], %[u]\n\tsxtb16 %[u], %[u], ror #8"
#define HK_DW_EXT1 "sxtab16 %[xe], %[off2], %[u]\n\tsxtab16 %[u], %[off2], %[u], ror #8"

HK_DSP_ALWAYS_INLINE hk_dw_acc hk_dw_init(const int32_t *b)
{
    hk_dw_acc a;
    hk_dsp_load2_next(&b, &a.a0, &a.a1);
    hk_dsp_load2_next(&b, &a.a2, &a.a3);
    return a;
}

/* The first k >= 0 with base + k * d >= 0. */
HK_DSP_ALWAYS_INLINE int32_t hk_dw_first(int32_t base, int32_t d)
{
    return base >= 0 ? 0 : (d - 1 - base) / d;
}

/* One past the last k in [0, n_k) with base + k * d <= size - 1 (0 when there is none). */
HK_DSP_ALWAYS_INLINE int32_t hk_dw_end(int32_t base, int32_t d, int32_t size, int32_t n_k)
{
    const int32_t room = size - 1 - base;
    if (room < 0) {
        return 0;
    }
    const int32_t e = room / d + 1;
    return e < n_k ? e : n_k;
}

/* One output pixel, x0 its window's first input column, row the input row of its first tap row
 * inside the input (channel ic), frow that row's filter pairs, rows the number of its tap rows
 * inside the input: the taps inside the input. */
HK_DSP_ALWAYS_INLINE hk_dw_acc hk_dw_taps(const hk_dw_shape *s, const hk_dw_group *g, const int8_t *row,
                                          const int32_t *frow, int32_t rows, int32_t x0, int32_t mode)
{
    hk_dw_acc a = hk_dw_init(g->bias);
    const int32_t kx_lo = hk_dw_first(x0, s->dw);
    const int32_t kx_n = hk_dw_end(x0, s->dw, s->in_w, s->kw) - kx_lo;
    if (kx_n <= 0) {
        return a;
    }
    const int32_t col_step = s->col_step, off2 = s->off2;
    row += (x0 + kx_lo * s->dw) * s->in_c;
    frow += 2 * kx_lo;
    for (; rows > 0; rows--) {
        const int8_t *p = row;
        const int32_t *f = frow;
        for (int32_t n = kx_n; n > 0; n--) {
            hk_dw_tap(&a, p, &f, mode, off2);
            p += col_step;
        }
        row += s->row_step;
        frow += 2 * s->kw;
    }
    return a;
}

/* A 3x3 window wholly inside the input, its top left tap at p: the nine taps unrolled. Every tap
 * counts, so the input offset's share, input_offset times the lane's filter sum, is already in
 * bias3x3 (modulo 2^32 the same sum), and the inputs are only sign-extended. */
HK_DSP_ALWAYS_INLINE hk_dw_acc hk_dw_3x3(const hk_dw_group *g, const int8_t *p, int32_t row_step, int32_t col_step)
{
    hk_dw_acc a = hk_dw_init(g->bias3x3);
    const int32_t *f = g->w;
    HK_DW_TAP3(a, p, col_step, 0, f, 0, 0);
    HK_DW_TAP3(a, p, col_step, 0, f, 1, 0);
    HK_DW_TAP3(a, p, col_step, 0, f, 2, 0);
    p += row_step;
    HK_DW_TAP3(a, p, col_step, 0, f, 0, 0);
    HK_DW_TAP3(a, p, col_step, 0, f, 1, 0);
    HK_DW_TAP3(a, p, col_step, 0, f, 2, 0);
    p += row_step;
    HK_DW_TAP3(a, p, col_step, 0, f, 0, 0);
    HK_DW_TAP3(a, p, col_step, 0, f, 1, 0);
    HK_DW_TAP3(a, p, col_step, 0, f, 2, 0);
    return a;
}

/* A 3x3 window that is not wholly inside the input: its `rows` rows and `cols` columns inside the
 * input, the first tap at p, its filter pair at f, the input offset added to each input. */
HK_DSP_ALWAYS_INLINE hk_dw_acc hk_dw_3x3_part(const hk_dw_group *g, const int8_t *p, const int32_t *f, int32_t rows,
                                              int32_t cols, int32_t row_step, int32_t col_step, int32_t off2)
{
    hk_dw_acc a = hk_dw_init(g->bias);
    const int32_t f_skip = 2 * (3 - cols); /* the filter pairs of a row's columns outside */
    for (; rows > 0; rows--, p += row_step, f += f_skip) {
        HK_DW_TAP3(a, p, col_step, off2, f, 0, 1);
        if (cols > 1) {
            HK_DW_TAP3(a, p, col_step, off2, f, 1, 1);
            if (cols > 2) {
                HK_DW_TAP3(a, p, col_step, off2, f, 2, 1);
            }
        }
    }
    return a;
}

/* Output pixel (x0 its window's first input column) of a 3x3 window whose rows inside the input
 * start at row (filter pairs frow): the part inside the input. */
HK_DSP_ALWAYS_INLINE hk_dw_acc hk_dw_3x3_edge(const hk_dw_shape *s, const hk_dw_group *g, const int8_t *row,
                                              const int32_t *frow, int32_t rows, int32_t x0)
{
    int32_t kx_lo, cols;
    if (s->dw == 1) { /* the same without the divisions */
        kx_lo = x0 < 0 ? -x0 : 0;
        const int32_t end = s->in_w - x0;
        cols = (end < 3 ? end : 3) - kx_lo;
    } else {
        kx_lo = hk_dw_first(x0, s->dw);
        cols = hk_dw_end(x0, s->dw, s->in_w, 3) - kx_lo;
    }
    if (cols <= 0) {
        return hk_dw_init(g->bias);
    }
    return hk_dw_3x3_part(g, row + (x0 + kx_lo * s->dw) * s->in_c, frow + 2 * kx_lo, rows, cols, s->row_step,
                          s->col_step, s->off2);
}

/* One lane's output before the clamp, with hk_dsp_depthwise.h's one multiply-accumulate: *q is the
 * lane's hk_dw_rq (advanced past it). These are hk_dw_rq_double and hk_dw_rq_single instruction for
 * instruction, in one asm block each so that the compiler neither hoists the loads (and spills
 * them) nor splits the 64-bit sum into extra moves. */
HK_DSP_ALWAYS_INLINE int32_t hk_dw_out(const int32_t **q, int32_t acc, int32_t cls)
{
    int32_t lo, hi, m, n;
    if (cls == HK_DW_RQ_DOUBLE) {
        __asm__("ldrd %[lo], %[hi], [%[q]], #8\n\t"
                "ldrd %[m], %[n], [%[q]], #8\n\t"
                "add %[hi], %[hi], %[acc], asr #31\n\t" /* less 1 when acc < 0 */
                "add %[acc], %[acc], %[acc]\n\t"        /* |acc| < 2^30: exact */
                "smlal %[lo], %[hi], %[acc], %[m]\n\t"
                "asr %[hi], %[hi], %[n]"
                : [lo] "=&r"(lo), [hi] "=&r"(hi), [m] "=&r"(m), [n] "=&r"(n), [q] "+r"(*q), [acc] "+r"(acc)
                : "m"(*(const hk_dw_rq *)*q));
    } else {
        __asm__("ldrd %[lo], %[hi], [%[q]], #8\n\t"
                "ldrd %[m], %[n], [%[q]], #8\n\t"
                "smlal %[lo], %[hi], %[acc], %[m]\n\t"
                "asr %[hi], %[hi], %[n]"
                : [lo] "=&r"(lo), [hi] "=&r"(hi), [m] "=&r"(m), [n] "=&r"(n), [q] "+r"(*q)
                : [acc] "r"(acc), "m"(*(const hk_dw_rq *)*q));
    }
    return hi;
}

/* The four lanes' bytes, clamped to the activation, lane j in byte j. */
HK_DSP_ALWAYS_INLINE uint32_t hk_dw_clamp(const hk_dw_shape *s, int32_t v0, int32_t v1, int32_t v2, int32_t v3)
{
    return hk_dsp_clamp4(hk_dsp_pack4(v0, v1, v2, v3), s->lo4, s->hi4);
}

/* One lane by hk_dsp_rq_apply, the general form, for the groups whose scales or sums the one
 * multiply-accumulate does not cover: out of line, it is rare. */
static __attribute__((noinline)) int32_t hk_dw_out_gen(const hk_dsp_rq *q, int32_t acc, int32_t rounding)
{
    return hk_dsp_rq_apply(q, acc, rounding);
}

/* The group's lanes [0, n) of one output pixel, requantized as cls says, offset and clamped, to o. */
HK_DSP_ALWAYS_INLINE void hk_dw_store_cls(const hk_dw_shape *s, const hk_dw_group *g, const hk_dw_acc *a, int8_t *o,
                                          int32_t n, int32_t cls)
{
    int32_t v0, v1, v2, v3;
    if (cls == HK_DW_RQ_DOUBLE || cls == HK_DW_RQ_SINGLE) {
        const int32_t *q = &g->fast[0].lo;
        if (cls == HK_DW_RQ_DOUBLE) {
            v0 = hk_dw_out(&q, a->a0, HK_DW_RQ_DOUBLE);
            v1 = hk_dw_out(&q, a->a1, HK_DW_RQ_DOUBLE);
            v2 = hk_dw_out(&q, a->a2, HK_DW_RQ_DOUBLE);
            v3 = hk_dw_out(&q, a->a3, HK_DW_RQ_DOUBLE);
        } else {
            v0 = hk_dw_out(&q, a->a0, HK_DW_RQ_SINGLE);
            v1 = hk_dw_out(&q, a->a1, HK_DW_RQ_SINGLE);
            v2 = hk_dw_out(&q, a->a2, HK_DW_RQ_SINGLE);
            v3 = hk_dw_out(&q, a->a3, HK_DW_RQ_SINGLE);
        }
    } else {
        const int32_t oo = s->output_offset, rounding = g->rounding;
        v0 = hk_dw_out_gen(&g->gen[0], a->a0, rounding) + oo;
        v1 = hk_dw_out_gen(&g->gen[1], a->a1, rounding) + oo;
        v2 = hk_dw_out_gen(&g->gen[2], a->a2, rounding) + oo;
        v3 = hk_dw_out_gen(&g->gen[3], a->a3, rounding) + oo;
    }
    const uint32_t out4 = hk_dw_clamp(s, v0, v1, v2, v3);
    if (n == 4) {
        __builtin_memcpy(o, &out4, sizeof out4);
    } else {
        for (int32_t j = 0; j < n; j++) {
            o[j] = (int8_t)(out4 >> (8 * j));
        }
    }
}

/* The same as the group's cls says: out of line, for the less usual layers. */
static __attribute__((noinline)) void hk_dw_store_any(const hk_dw_shape *s, const hk_dw_group *g, const hk_dw_acc *a,
                                                      int8_t *o, int32_t n)
{
    hk_dw_store_cls(s, g, a, o, n, g->cls);
}

HK_DSP_ALWAYS_INLINE void hk_dw_store(const hk_dw_shape *s, const hk_dw_group *g, const hk_dw_acc *a, int8_t *o,
                                      int32_t n, int32_t cls)
{
    if (cls == HK_DW_RQ_ANY) {
        hk_dw_store_any(s, g, a, o, n);
    } else {
        hk_dw_store_cls(s, g, a, o, n, cls);
    }
}

/* Every output pixel of the group: input channel ic, output channels [oc0, oc0 + n). */
HK_DSP_ALWAYS_INLINE void hk_dw_pixels(const hk_dw_shape *s, const hk_dw_group *g, int32_t ic, int32_t oc0, int32_t n,
                                       int32_t mode, int32_t cls)
{
    const int8_t *in = s->input + ic;
    const int32_t x_step = s->sw * s->in_c;
    const int32_t out_c = s->out_c;
    for (int32_t oy = 0; oy < s->out_h; oy++) {
        const int32_t y0 = oy * s->sh - s->pad_top;
        int32_t ky_lo, rows;
        if (s->dh == 1) { /* the same without the divisions */
            ky_lo = y0 < 0 ? -y0 : 0;
            const int32_t end = s->in_h - y0;
            rows = (end < s->kh ? end : s->kh) - ky_lo;
        } else {
            ky_lo = hk_dw_first(y0, s->dh);
            rows = hk_dw_end(y0, s->dh, s->in_h, s->kh) - ky_lo;
        }
        const int8_t *row = in;
        const int32_t *frow = g->w;
        if (rows > 0) {
            row += (y0 + ky_lo * s->dh) * s->in_w * s->in_c;
            frow += 2 * ky_lo * s->kw;
        } else {
            rows = 0; /* no tap row inside the input: the bias alone */
        }
        int8_t *o = s->output + oy * s->out_w * out_c + oc0;
        if (mode == HK_DW_X4 && s->kh == 3 && s->kw == 3) {
            /* 3x3: the columns whose window lies inside the input's columns, unrolled (all nine taps
             * when the rows are inside too); the ones before and after, the part inside. */
            int32_t ox = 0;
            for (; ox < s->ox_lo; ox++, o += out_c) {
                const hk_dw_acc a = hk_dw_3x3_edge(s, g, row, frow, rows, ox * s->sw - s->pad_left);
                hk_dw_store(s, g, &a, o, 4, cls);
            }
            const int8_t *p = row + (ox * s->sw - s->pad_left) * s->in_c;
            const int32_t row_step = s->row_step, col_step = s->col_step;
            if (rows == 3) {
                for (int32_t k = s->ox_hi - ox; k > 0; k--, o += out_c, p += x_step) {
                    const hk_dw_acc a = hk_dw_3x3(g, p, row_step, col_step);
                    hk_dw_store(s, g, &a, o, 4, cls);
                }
            } else {
                const int32_t off2 = s->off2;
                for (int32_t k = s->ox_hi - ox; k > 0; k--, o += out_c, p += x_step) {
                    const hk_dw_acc a = hk_dw_3x3_part(g, p, frow, rows, 3, row_step, col_step, off2);
                    hk_dw_store(s, g, &a, o, 4, cls);
                }
            }
            for (ox = s->ox_hi; ox < s->out_w; ox++, o += out_c) {
                const hk_dw_acc a = hk_dw_3x3_edge(s, g, row, frow, rows, ox * s->sw - s->pad_left);
                hk_dw_store(s, g, &a, o, 4, cls);
            }
        } else {
            for (int32_t ox = 0; ox < s->out_w; ox++, o += out_c) {
                const hk_dw_acc a = hk_dw_taps(s, g, row, frow, rows, ox * s->sw - s->pad_left, mode);
                hk_dw_store(s, g, &a, o, mode == HK_DW_X1 ? n : 4, cls);
            }
        }
    }
}

/* The group of output channels [oc0, oc0 + n), n <= 4: its filter pairs, biases, requantizers.
 * Returns how its outputs can be requantized (HK_DW_RQ_*). */
static int32_t hk_dw_prepare(hk_dw_group *g, const int8_t *filter, const int32_t *bias, const hk_quant *quant,
                             int32_t input_offset, int32_t output_offset, int32_t taps, int32_t out_c, int32_t oc0,
                             int32_t n)
{
    /* Each lane's filter sum, in the halfwords of se (lanes 0, 2) and so (lanes 1, 3): |sum| <=
     * 128 * taps <= 2^13, so SADD16 never wraps. */
    int32_t se = 0, so = 0;
    const int8_t *w = filter + oc0;
    for (int32_t t = 0; t < taps; t++, w += out_c) {
        uint32_t u = 0;
        if (n == 4) {
            u = hk_dsp_load4(w);
        } else {
            for (int32_t j = 0; j < n; j++) {
                u |= (uint32_t)(uint8_t)w[j] << (8 * j);
            }
        }
        const int32_t e = hk_dsp_sxtb16_even(u), o = hk_dsp_sxtb16_odd(u);
        g->w[2 * t] = e;
        g->w[2 * t + 1] = o;
        se = (int32_t)__sadd16((int16x2_t)se, (int16x2_t)e);
        so = (int32_t)__sadd16((int16x2_t)so, (int16x2_t)o);
    }
    const int32_t sum[4] = {(int16_t)se, (int16_t)so, se >> 16, so >> 16};
    const int32_t rounding = quant->rounding;
    int32_t cls = rounding == HK_ROUND_SINGLE ? HK_DW_RQ_SINGLE : HK_DW_RQ_DOUBLE;
    g->rounding = rounding;
    for (int32_t j = 0; j < 4; j++) {
        const int32_t oc = oc0 + (j < n ? j : 0);
        const int32_t q = quant->count > 1 ? oc : 0;
        const int32_t b = bias ? bias[oc] : 0;
        g->bias[j] = b;
        g->bias3x3[j] = b + input_offset * sum[j]; /* modulo 2^32, as every sum here */
        if (!hk_dw_rq_prep(&g->fast[j], quant->multiplier[q], quant->shift[q], output_offset, rounding)) {
            cls = HK_DW_RQ_GEN;
        }
        /* The double rounding's one multiply needs |acc| < 2^30 for every input: |x + input_offset|
         * <= 255 and |w| <= 128, so |acc| <= |bias| + 255 * 128 * taps (< 2^31 + 2^21 in uint32,
         * taps <= HK_DW_MAX_TAPS). */
        const uint32_t babs = b < 0 ? 0u - (uint32_t)b : (uint32_t)b;
        if (rounding != HK_ROUND_SINGLE && babs + 255u * 128u * (uint32_t)taps >= (1u << 30)) {
            cls = HK_DW_RQ_GEN;
        }
    }
    if (cls == HK_DW_RQ_GEN) {
        for (int32_t j = 0; j < 4; j++) {
            const int32_t q = quant->count > 1 ? oc0 + (j < n ? j : 0) : 0;
            g->gen[j] = hk_dsp_rq_prep(quant->multiplier[q], quant->shift[q], rounding);
        }
    }
    g->cls = cls;
    return cls;
}

/* The pixels of one group: out of line, one copy for multiplier 1 and the double rounding's one
 * multiply (the usual depthwise layer, specialized throughout), one per mode for the rest. Without
 * the scheduling before register allocation: it hoists loads and then spills them (7% more
 * instructions on the suite's depthwise shape). */
#define HK_DW_GROUP_FN(name, mode, cls)                                                                          \
    static __attribute__((noinline, optimize("no-schedule-insns"))) void name(                                 \
        const hk_dw_shape *s, const hk_dw_group *g, int32_t ic, int32_t oc0, int32_t n)                        \
    {                                                                                                          \
        hk_dw_pixels(s, g, ic, oc0, n, mode, cls);                                                             \
    }
HK_DW_GROUP_FN(hk_dw_x4_double, HK_DW_X4, HK_DW_RQ_DOUBLE)
HK_DW_GROUP_FN(hk_dw_x4_any, HK_DW_X4, HK_DW_RQ_ANY)
HK_DW_GROUP_FN(hk_dw_x2_any, HK_DW_X2, HK_DW_RQ_ANY)
HK_DW_GROUP_FN(hk_dw_x1_any, HK_DW_X1, HK_DW_RQ_ANY)

/* One group: prepared, then its pixels in the fitting copy. */
static void hk_dw_group_run(const hk_dw_shape *s, hk_dw_group *g, const int8_t *filter, const int32_t *bias,
                            const hk_quant *quant, int32_t taps, int32_t mode, int32_t ic, int32_t oc0, int32_t n)
{
    const int32_t cls =
        hk_dw_prepare(g, filter, bias, quant, s->input_offset, s->output_offset, taps, s->out_c, oc0, n);
    if (mode == HK_DW_X4) {
        if (cls == HK_DW_RQ_DOUBLE) {
            hk_dw_x4_double(s, g, ic, oc0, n);
        } else {
            hk_dw_x4_any(s, g, ic, oc0, n);
        }
    } else if (mode == HK_DW_X2) {
        hk_dw_x2_any(s, g, ic, oc0, n);
    } else {
        hk_dw_x1_any(s, g, ic, oc0, n);
    }
}

static void hk_dw_simd(const hk_conv_params *params, const hk_quant *quant, const hk_dims *input_dims,
                       const int8_t *input, const hk_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                       const hk_dims *output_dims, int8_t *output)
{
    hk_dw_shape s;
    s.input = input;
    s.output = output;
    s.in_h = input_dims->h;
    s.in_w = input_dims->w;
    s.in_c = input_dims->c;
    s.out_h = output_dims->h;
    s.out_w = output_dims->w;
    s.out_c = output_dims->c;
    s.kh = filter_dims->h;
    s.kw = filter_dims->w;
    s.sh = params->stride.h;
    s.sw = params->stride.w;
    s.dh = params->dilation.h;
    s.dw = params->dilation.w;
    s.pad_top = params->padding.top;
    s.pad_left = params->padding.left;
    s.row_step = s.dh * s.in_w * s.in_c;
    s.col_step = s.dw * s.in_c;
    s.input_offset = params->input_offset;
    s.off2 = hk_dsp_splat2(params->input_offset);
    s.output_offset = params->output_offset;
    s.lo4 = hk_dsp_splat4(params->activation.min);
    s.hi4 = hk_dsp_splat4(params->activation.max);
    /* 3x3: the columns from the first whose window starts at x >= 0 to the last whose window ends
     * at x < in_w. */
    s.ox_lo = (s.pad_left + s.sw - 1) / s.sw;
    const int32_t room = s.in_w - 1 - 2 * s.dw + s.pad_left;
    s.ox_hi = room < 0 ? 0 : room / s.sw + 1;
    s.ox_hi = s.ox_hi > s.out_w ? s.out_w : s.ox_hi;
    s.ox_lo = s.ox_lo > s.ox_hi ? s.ox_hi : s.ox_lo;

    const int32_t taps = s.kh * s.kw, in_c = s.in_c, mult = s.out_c / in_c;
    hk_dw_group g;
    /* Channels beyond a multiple of the group: the last group overlaps the one before (its outputs
     * are written twice, with the same values), rather than run lanes that stay empty. */
    if (mult == 1 && in_c >= 4) {
        for (int32_t c = 0; c < in_c; c += 4) {
            const int32_t c0 = c + 4 <= in_c ? c : in_c - 4;
            hk_dw_group_run(&s, &g, filter, bias, quant, taps, HK_DW_X4, c0, c0, 4);
        }
    } else if (mult == 2 && in_c >= 2) {
        for (int32_t ic = 0; ic < in_c; ic += 2) {
            const int32_t ic0 = ic + 2 <= in_c ? ic : in_c - 2;
            hk_dw_group_run(&s, &g, filter, bias, quant, taps, HK_DW_X2, ic0, 2 * ic0, 4);
        }
    } else { /* one input channel per group: fewer than four channels, or another multiplier */
        for (int32_t ic = 0; ic < in_c; ic++) {
            for (int32_t m = 0; m < mult; m += 4) {
                const int32_t m0 = m + 4 <= mult || mult < 4 ? m : mult - 4;
                const int32_t n = mult - m0 < 4 ? mult - m0 : 4;
                hk_dw_group_run(&s, &g, filter, bias, quant, taps, HK_DW_X1, ic, ic * mult + m0, n);
            }
        }
    }
}

#endif /* HK_DSP_SIMD */

hk_status hk_depthwise_conv2d_s8(const hk_context *ctx, const hk_conv_params *params,
                                 const hk_quant *quant, const hk_dims *input_dims,
                                 const int8_t *input, const hk_dims *filter_dims,
                                 const int8_t *filter, const int32_t *bias,
                                 const hk_dims *output_dims, int8_t *output)
{
    (void)ctx;
#if HK_DSP_SIMD
    if (filter_dims->h * filter_dims->w <= HK_DW_MAX_TAPS) {
        hk_dw_simd(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output);
        return HK_OK;
    }
#endif
    hk_dw_plain(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output);
    return HK_OK;
}
