/* The matrix-vector product of the dsp variant: hk_mat_vec_s8 as in hk_support.h (the inner routine
 * of the fully connected and 1x1 convolution kernels), with the same results as the portable one
 * and its multiply-accumulates on the DSP extension (hk_dsp_mac.h). It replaces the portable
 * hk_mat_vec_s8 in an image built with this variant. */
#include "hk_dsp_mac.h"
#include "hk_support.h"

/* output[r] = clamp(requantize(bias[r] + sum_i weights[r][i] * (input[i] + input_offset)) +
 * output_offset) for r in [0, rows), weights [rows][cols] row-major.
 *
 * The input is shared by every row, so it is sign-extended and offset once, a chunk of
 * HK_DSP_MV_CHUNK columns at a time, into a buffer on the stack: per four inputs, bytes 0 and 2 in
 * one word and bytes 1 and 3 in the next (SXTAB16 adds the offset pair as it extends). Rows then go
 * in pairs over the chunk: per eight columns, two LDRD of inputs shared by the pair, and per row one
 * LDRD of eight weights (when every row starts on a word; else two LDR), four SXTB16 and four SMLAD
 * (42 instructions for 32 multiply-accumulates in a loop of sixteen columns). Three or four rows at a
 * time would share the inputs further but need more registers than the compiler finds, and lose to
 * the spills. When the input fits one chunk (the usual case) each pair is requantized as soon as it
 * is summed; otherwise the sums of a block of up to HK_DSP_MV_ROWS rows wait on the stack between
 * chunks. Columns beyond a multiple of four (in the last chunk) one by one. Inputs shorter than
 * HK_DSP_MV_MIN_COLS do not repay that setup and take a plain loop (with the same requantization). */

#define HK_DSP_MV_CHUNK 512 /* columns per chunk: a 1 KiB buffer */
#define HK_DSP_MV_ROWS 32   /* rows per block: 128 bytes of accumulators */
#define HK_DSP_MV_MIN_COLS 16 /* shorter inputs take the plain loop */

/* The plain loop, row by row, with the same requantization: the whole product without the DSP
 * extension, and with it for inputs too short to repay the setup of the paths above. */
HK_DSP_ALWAYS_INLINE void hk_dsp_mv_plain(const int8_t *input, const int8_t *weights, const int32_t *bias, int32_t rows,
                                          int32_t cols, int32_t input_offset, int32_t output_offset,
                                          const hk_quant *quant, const hk_activation *activation, int8_t *output,
                                          int32_t rounding)
{
    const int32_t qstep = quant->count > 1 ? 1 : 0;
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *w = weights + r * cols;
        int32_t acc = bias ? bias[r] : 0;
        for (int32_t i = 0; i < cols; i++) {
            acc += (int32_t)w[i] * ((int32_t)input[i] + input_offset);
        }
        const hk_dsp_rq rq = hk_dsp_rq_prep(quant->multiplier[r * qstep], quant->shift[r * qstep], rounding);
        output[r] = hk_dsp_clamp(hk_dsp_rq_apply(&rq, acc, rounding) + output_offset, activation->min,
                                 activation->max);
    }
}

#if HK_DSP_SIMD

/* buf[2q] = bytes 0 and 2 of input quad q plus the offset, buf[2q + 1] = bytes 1 and 3, q < quads. */
HK_DSP_ALWAYS_INLINE void hk_dsp_mv_expand(const int8_t *x, int32_t quads, int32_t off2, int32_t *buf)
{
    for (int32_t n = quads >> 2; n > 0; n--) {
        const uint32_t u = hk_dsp_load4(x), v = hk_dsp_load4(x + 4), y = hk_dsp_load4(x + 8), z = hk_dsp_load4(x + 12);
        x += 16;
        hk_dsp_store2_next(&buf, hk_dsp_sxtab16_even(off2, u), hk_dsp_sxtab16_odd(off2, u));
        hk_dsp_store2_next(&buf, hk_dsp_sxtab16_even(off2, v), hk_dsp_sxtab16_odd(off2, v));
        hk_dsp_store2_next(&buf, hk_dsp_sxtab16_even(off2, y), hk_dsp_sxtab16_odd(off2, y));
        hk_dsp_store2_next(&buf, hk_dsp_sxtab16_even(off2, z), hk_dsp_sxtab16_odd(off2, z));
    }
    for (int32_t n = quads & 3; n > 0; n--) {
        const uint32_t u = hk_dsp_load4(x);
        x += 4;
        hk_dsp_store2_next(&buf, hk_dsp_sxtab16_even(off2, u), hk_dsp_sxtab16_odd(off2, u));
    }
}

/* The two sums of a pair of rows, returned together in r0 and r1 (a 64-bit value: no memory). */
HK_DSP_ALWAYS_INLINE uint64_t hk_dsp_pair(int32_t a0, int32_t a1)
{
    return (uint64_t)(uint32_t)a0 | ((uint64_t)(uint32_t)a1 << 32);
}

HK_DSP_ALWAYS_INLINE int32_t hk_dsp_pair_lo(uint64_t p)
{
    return (int32_t)(uint32_t)p;
}

HK_DSP_ALWAYS_INLINE int32_t hk_dsp_pair_hi(uint64_t p)
{
    return (int32_t)(uint32_t)(p >> 32);
}

/* The sums over the expanded chunk b (quads groups of four inputs) of rows w and w + cols, whose
 * weights are word-aligned: eight weights of a row per LDRD. The inner loops are kept out of line so
 * that each has every register to itself. */
HK_DSP_NOINLINE uint64_t hk_dsp_mv_dot2_aligned(const int32_t *b, int32_t quads, const int8_t *w, int32_t cols)
{
    const int8_t *w0 = w, *w1 = w + cols;
    int32_t a0 = 0, a1 = 0;
    for (int32_t n = quads >> 2; n > 0; n--) { /* sixteen columns */
        int32_t xe0, xo0, xe1, xo1;
        uint32_t u0, u1;
        hk_dsp_load2_next(&b, &xe0, &xo0);
        hk_dsp_load2_next(&b, &xe1, &xo1);
        hk_dsp_load8_next(&w0, &u0, &u1);
        a0 = hk_dsp_mac4(a0, u0, xe0, xo0);
        a0 = hk_dsp_mac4(a0, u1, xe1, xo1);
        hk_dsp_load8_next(&w1, &u0, &u1);
        a1 = hk_dsp_mac4(a1, u0, xe0, xo0);
        a1 = hk_dsp_mac4(a1, u1, xe1, xo1);
        hk_dsp_load2_next(&b, &xe0, &xo0);
        hk_dsp_load2_next(&b, &xe1, &xo1);
        hk_dsp_load8_next(&w0, &u0, &u1);
        a0 = hk_dsp_mac4(a0, u0, xe0, xo0);
        a0 = hk_dsp_mac4(a0, u1, xe1, xo1);
        hk_dsp_load8_next(&w1, &u0, &u1);
        a1 = hk_dsp_mac4(a1, u0, xe0, xo0);
        a1 = hk_dsp_mac4(a1, u1, xe1, xo1);
    }
    if (quads & 2) {
        int32_t xe0, xo0, xe1, xo1;
        uint32_t u0, u1;
        hk_dsp_load2_next(&b, &xe0, &xo0);
        hk_dsp_load2_next(&b, &xe1, &xo1);
        hk_dsp_load8_next(&w0, &u0, &u1);
        a0 = hk_dsp_mac4(a0, u0, xe0, xo0);
        a0 = hk_dsp_mac4(a0, u1, xe1, xo1);
        hk_dsp_load8_next(&w1, &u0, &u1);
        a1 = hk_dsp_mac4(a1, u0, xe0, xo0);
        a1 = hk_dsp_mac4(a1, u1, xe1, xo1);
    }
    if (quads & 1) {
        int32_t xe, xo;
        hk_dsp_load2_next(&b, &xe, &xo);
        a0 = hk_dsp_mac4(a0, hk_dsp_load4(w0), xe, xo);
        a1 = hk_dsp_mac4(a1, hk_dsp_load4(w1), xe, xo);
    }
    return hk_dsp_pair(a0, a1);
}

/* The same with weights at any address: four weights of a row per LDR. */
HK_DSP_NOINLINE uint64_t hk_dsp_mv_dot2(const int32_t *b, int32_t quads, const int8_t *w, int32_t cols)
{
    const int8_t *w0 = w, *w1 = w + cols;
    int32_t a0 = 0, a1 = 0;
    for (int32_t n = quads; n > 0; n--) {
        int32_t xe, xo;
        hk_dsp_load2_next(&b, &xe, &xo);
        a0 = hk_dsp_mac4(a0, hk_dsp_load4(w0), xe, xo);
        w0 += 4;
        a1 = hk_dsp_mac4(a1, hk_dsp_load4(w1), xe, xo);
        w1 += 4;
    }
    return hk_dsp_pair(a0, a1);
}

/* One row at any address. */
HK_DSP_NOINLINE int32_t hk_dsp_mv_dot1(const int32_t *b, int32_t quads, const int8_t *w)
{
    int32_t acc = 0;
    for (int32_t n = quads; n > 0; n--) {
        int32_t xe, xo;
        hk_dsp_load2_next(&b, &xe, &xo);
        acc = hk_dsp_mac4(acc, hk_dsp_load4(w), xe, xo);
        w += 4;
    }
    return acc;
}

/* Rows r and r + 1 over the chunk b, and columns [quads * 4, nc) of the chunk one by one (x: the
 * chunk's inputs, w: row r's weights for the chunk). */
HK_DSP_ALWAYS_INLINE uint64_t hk_dsp_mv_rows2(const int32_t *b, int32_t quads, int32_t nc, const int8_t *x,
                                              const int8_t *w, int32_t cols, int32_t input_offset, int32_t aligned)
{
    if (aligned) {
        return hk_dsp_mv_dot2_aligned(b, quads, w, cols);
    }
    const uint64_t p = hk_dsp_mv_dot2(b, quads, w, cols);
    int32_t a0 = hk_dsp_pair_lo(p), a1 = hk_dsp_pair_hi(p);
    for (int32_t i = quads << 2; i < nc; i++) {
        const int32_t xi = (int32_t)x[i] + input_offset;
        a0 += (int32_t)w[i] * xi;
        a1 += (int32_t)w[cols + i] * xi;
    }
    return hk_dsp_pair(a0, a1);
}

HK_DSP_ALWAYS_INLINE int32_t hk_dsp_mv_rows1(const int32_t *b, int32_t quads, int32_t nc, const int8_t *x,
                                             const int8_t *w, int32_t input_offset)
{
    int32_t a = hk_dsp_mv_dot1(b, quads, w);
    for (int32_t i = quads << 2; i < nc; i++) {
        a += (int32_t)w[i] * ((int32_t)x[i] + input_offset);
    }
    return a;
}

/* The output byte pair of two accumulators with requantizers q0 and q1, for a 16-bit store. */
HK_DSP_ALWAYS_INLINE uint16_t hk_dsp_out2(const hk_dsp_rq *q0, const hk_dsp_rq *q1, int32_t a0, int32_t a1,
                                          int32_t output_offset, uint32_t lo4, uint32_t hi4, int32_t rounding)
{
    const int32_t v0 = hk_dsp_rq_apply(q0, a0, rounding) + output_offset;
    const int32_t v1 = hk_dsp_rq_apply(q1, a1, rounding) + output_offset;
    uint32_t p = (uint32_t)__ssat(v0, 8);
    __asm__("bfi %0, %1, #8, #8" : "+r"(p) : "r"(__ssat(v1, 8)));
    return (uint16_t)hk_dsp_clamp4(p, lo4, hi4);
}

/* Rows r and r + 1 to output: their requantizers (prepared here for a per-channel quant, else the
 * tensor's, prepared once by the caller), values and the 16-bit store. */
HK_DSP_ALWAYS_INLINE void hk_dsp_mv_store2(const hk_quant *quant, const hk_dsp_rq *tensor_rq, int32_t r, int32_t a0,
                                           int32_t a1, int32_t output_offset, uint32_t lo4, uint32_t hi4,
                                           int8_t *output, int32_t rounding)
{
    uint16_t out2;
    if (quant->count > 1) {
        const hk_dsp_rq q0 = hk_dsp_rq_prep(quant->multiplier[r], quant->shift[r], rounding);
        const hk_dsp_rq q1 = hk_dsp_rq_prep(quant->multiplier[r + 1], quant->shift[r + 1], rounding);
        out2 = hk_dsp_out2(&q0, &q1, a0, a1, output_offset, lo4, hi4, rounding);
    } else {
        out2 = hk_dsp_out2(tensor_rq, tensor_rq, a0, a1, output_offset, lo4, hi4, rounding);
    }
    __builtin_memcpy(output + r, &out2, sizeof out2);
}

/* Row r to output (the last of an odd number). */
HK_DSP_ALWAYS_INLINE void hk_dsp_mv_store1(const hk_quant *quant, int32_t r, int32_t a, int32_t output_offset,
                                           const hk_activation *activation, int8_t *output, int32_t rounding)
{
    const int32_t q = quant->count > 1 ? r : 0;
    const hk_dsp_rq rq = hk_dsp_rq_prep(quant->multiplier[q], quant->shift[q], rounding);
    output[r] = hk_dsp_clamp(hk_dsp_rq_apply(&rq, a, rounding) + output_offset, activation->min, activation->max);
}

/* The product when the whole input fits one chunk (the common case): expanded once, then rows in
 * pairs, each pair requantized and stored as soon as its sums are complete. */
HK_DSP_ALWAYS_INLINE void hk_dsp_mv_whole(const int8_t *input, const int8_t *weights, const int32_t *bias,
                                          int32_t rows, int32_t cols, int32_t input_offset, int32_t output_offset,
                                          const hk_quant *quant, const hk_activation *activation, int8_t *output,
                                          int32_t *buf, int32_t rounding)
{
    const int32_t quads = cols >> 2;
    const int32_t aligned = ((uintptr_t)weights & 3u) == 0 && (cols & 3) == 0;
    const uint32_t lo4 = hk_dsp_splat4(activation->min), hi4 = hk_dsp_splat4(activation->max);
    const hk_dsp_rq tensor_rq = hk_dsp_rq_prep(quant->multiplier[0], quant->shift[0], rounding);
    hk_dsp_mv_expand(input, quads, hk_dsp_splat2(input_offset), buf);
    const int8_t *w = weights;
    int32_t r = 0;
    for (; r + 2 <= rows; r += 2, w += 2 * cols) {
        const uint64_t p = hk_dsp_mv_rows2(buf, quads, cols, input, w, cols, input_offset, aligned);
        int32_t a0 = hk_dsp_pair_lo(p), a1 = hk_dsp_pair_hi(p);
        if (bias) {
            a0 += bias[r];
            a1 += bias[r + 1];
        }
        hk_dsp_mv_store2(quant, &tensor_rq, r, a0, a1, output_offset, lo4, hi4, output, rounding);
    }
    if (r < rows) {
        int32_t a = hk_dsp_mv_rows1(buf, quads, cols, input, w, input_offset);
        if (bias) {
            a += bias[r];
        }
        hk_dsp_mv_store1(quant, r, a, output_offset, activation, output, rounding);
    }
}

/* Rows [r0, r0 + nb) of the product, nb <= HK_DSP_MV_ROWS, chunk by chunk, their sums kept on the
 * stack between chunks. */
HK_DSP_ALWAYS_INLINE void hk_dsp_mv_block(const int8_t *input, const int8_t *weights, const int32_t *bias, int32_t r0,
                                          int32_t nb, int32_t cols, int32_t input_offset, int32_t output_offset,
                                          const hk_quant *quant, const hk_activation *activation, int8_t *output,
                                          int32_t *buf, int32_t rounding)
{
    const int32_t off2 = hk_dsp_splat2(input_offset);
    const int32_t aligned = ((uintptr_t)weights & 3u) == 0 && (cols & 3) == 0;
    int32_t acc[HK_DSP_MV_ROWS];
    for (int32_t k = 0; k < nb; k++) {
        acc[k] = bias ? bias[r0 + k] : 0;
    }
    for (int32_t c0 = 0; c0 < cols; c0 += HK_DSP_MV_CHUNK) {
        const int32_t nc = cols - c0 < HK_DSP_MV_CHUNK ? cols - c0 : HK_DSP_MV_CHUNK;
        const int32_t quads = nc >> 2;
        hk_dsp_mv_expand(input + c0, quads, off2, buf);
        const int8_t *w = weights + r0 * cols + c0;
        int32_t k = 0;
        for (; k + 2 <= nb; k += 2, w += 2 * cols) {
            const uint64_t p = hk_dsp_mv_rows2(buf, quads, nc, input + c0, w, cols, input_offset, aligned);
            acc[k] += hk_dsp_pair_lo(p);
            acc[k + 1] += hk_dsp_pair_hi(p);
        }
        if (k < nb) {
            acc[k] += hk_dsp_mv_rows1(buf, quads, nc, input + c0, w, input_offset);
        }
    }
    const uint32_t lo4 = hk_dsp_splat4(activation->min), hi4 = hk_dsp_splat4(activation->max);
    const hk_dsp_rq tensor_rq = hk_dsp_rq_prep(quant->multiplier[0], quant->shift[0], rounding);
    int32_t k = 0;
    for (; k + 2 <= nb; k += 2) {
        hk_dsp_mv_store2(quant, &tensor_rq, r0 + k, acc[k], acc[k + 1], output_offset, lo4, hi4, output, rounding);
    }
    if (k < nb) {
        hk_dsp_mv_store1(quant, r0 + k, acc[k], output_offset, activation, output, rounding);
    }
}

HK_DSP_ALWAYS_INLINE void hk_dsp_mat_vec_rounding(const int8_t *input, const int8_t *weights, const int32_t *bias,
                                                  int32_t rows, int32_t cols, int32_t input_offset,
                                                  int32_t output_offset, const hk_quant *quant,
                                                  const hk_activation *activation, int8_t *output,
                                                  int32_t rounding)
{
    if (cols < HK_DSP_MV_MIN_COLS) {
        hk_dsp_mv_plain(input, weights, bias, rows, cols, input_offset, output_offset, quant, activation, output,
                        rounding);
        return;
    }
    int32_t buf[HK_DSP_MV_CHUNK / 2] __attribute__((aligned(8)));
    if (cols <= HK_DSP_MV_CHUNK) {
        hk_dsp_mv_whole(input, weights, bias, rows, cols, input_offset, output_offset, quant, activation, output, buf,
                        rounding);
        return;
    }
    for (int32_t r0 = 0; r0 < rows; r0 += HK_DSP_MV_ROWS) {
        const int32_t nb = rows - r0 < HK_DSP_MV_ROWS ? rows - r0 : HK_DSP_MV_ROWS;
        hk_dsp_mv_block(input, weights, bias, r0, nb, cols, input_offset, output_offset, quant, activation, output,
                        buf, rounding);
    }
}

#else /* no DSP extension */

HK_DSP_ALWAYS_INLINE void hk_dsp_mat_vec_rounding(const int8_t *input, const int8_t *weights, const int32_t *bias,
                                                  int32_t rows, int32_t cols, int32_t input_offset,
                                                  int32_t output_offset, const hk_quant *quant,
                                                  const hk_activation *activation, int8_t *output,
                                                  int32_t rounding)
{
    hk_dsp_mv_plain(input, weights, bias, rows, cols, input_offset, output_offset, quant, activation, output,
                    rounding);
}

#endif /* HK_DSP_SIMD */

/* One copy per rounding, so that each tests it at compile time (as the portable one does). */
void hk_mat_vec_s8(const int8_t *input, const int8_t *weights, const int32_t *bias, int32_t rows,
                   int32_t cols, int32_t input_offset, int32_t output_offset, const hk_quant *quant,
                   const hk_activation *activation, int8_t *output)
{
    if (quant->rounding == HK_ROUND_SINGLE) {
        hk_dsp_mat_vec_rounding(input, weights, bias, rows, cols, input_offset, output_offset, quant, activation,
                                output, HK_ROUND_SINGLE);
    } else {
        hk_dsp_mat_vec_rounding(input, weights, bias, rows, cols, input_offset, output_offset, quant, activation,
                                output, HK_ROUND_DOUBLE);
    }
}

