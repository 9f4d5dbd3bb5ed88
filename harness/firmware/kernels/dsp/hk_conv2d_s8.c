/* 2-D convolution of the dsp variant: hk_conv2d_s8 as in hk_nn.h, with the results of the portable
 * kernel bit for bit and its multiply-accumulates on the DSP extension (hk_dsp_mac.h).
 *
 * Output pixels go in pairs. The patches of a pair (the KH * KW * C_IN inputs each pixel's window
 * covers, in the filter's [KH][KW][C_IN] order) are copied into the scratch (ctx->buf) as int16 with
 * the input offset already added, so that a tap in the padding holds 0 and adds nothing. Then every
 * pair of filter rows runs over them as a matrix product (hk_dsp_cv_sums): per four taps, two rows
 * and two pixels (16 multiply-accumulates), two LDRD of patch words, two LDR and four SXTB16 of
 * weights and eight SMLAD. SXTB16 takes a word's bytes 0 and 2 (and, rotated, 1 and 3), so the patch
 * is stored in the order the weights come out of it (see hk_dsp_cv_shape). The sums of up to
 * HK_DSP_CV_CHUNK channels then go through the output stage of hk_dsp_conv.h (the requantization
 * and the output offset in one SMLAL and a shift, for the usual scales), are clamped and stored, two
 * channels of both pixels at a time.
 *
 * With the double rounding, every shift in [-22, -1] and a bound on the biases that keeps every sum
 * within [-2^30, 2^30), that output stage is one asm block per channel and two sums (hk_dsp_cv_out2,
 * hk_dsp_group.h). When C_IN is not a multiple of four and there are at most HK_DSP_CV_PAD_ROWS
 * output channels (a first layer on an RGB image), the filter is first copied into the scratch with
 * its rows padded by zero weights to whole groups, so that no row has an incomplete last group.
 *
 * Exactness: the products are those of the portable kernel, each operand within its 16-bit half
 * (weights in [-128, 127], input + offset in [-255, 255], 0 for padding), summed modulo 2^32 in
 * another order, which gives the same int32 (see hk_dsp_mac.h); the output stage equals hk_requant.h
 * (see hk_dsp_conv.h); a padding weight is 0, so whatever patch halfword it meets adds 0. Without
 * the DSP extension the sums go tap by tap, as the portable kernel's. */
#include "hk_dsp_conv.h"
#include "hk_dsp_group.h"
#include "hk_dsp_mac.h"
#include "hk_nn.h"

/* Output channels whose output stages are prepared at once (hk_dsp_cv_rq, 20 bytes each, on the
 * stack); more channels than this (with a per-channel requantizer) copy the patches once per block. */
#define HK_DSP_CV_ROW_BLOCK 64

/* Output channels up to which a filter whose rows are not a multiple of four taps long is copied
 * into the scratch with each row padded to a whole group by zero weights, once per call, so that
 * the sums have no last incomplete group (hk_dsp_cv_sums). */
#define HK_DSP_CV_PAD_ROWS 16

/* Two pixels' patches as int16, in groups of four taps (the last group rounded up), and when C_IN is
 * not a multiple of four the two patches as int8 before them (see hk_dsp_cv_shape) and room for
 * HK_DSP_CV_PAD_ROWS padded filter rows after them: 4, or 6 + HK_DSP_CV_PAD_ROWS, bytes per tap
 * rounded up to a multiple of four. (The same without the DSP extension, where it goes unused, so
 * that the code generator's mirror has one formula.) */
int32_t hk_conv2d_s8_get_buffer_size(const hk_dims *input_dims, const hk_dims *filter_dims)
{
    (void)input_dims;
    const int32_t padded = (filter_dims->h * filter_dims->w * filter_dims->c + 3) & ~3;
    return (filter_dims->c & 3) == 0 ? 4 * padded : (6 + HK_DSP_CV_PAD_ROWS) * padded;
}

#if HK_DSP_SIMD

/* Output channels summed at once for a pixel pair before they are requantized (their sums wait on
 * the stack: 8 bytes per channel). */
#define HK_DSP_CV_CHUNK 16

/* The geometry of one call.
 *
 * The patch buffer of a pixel pair holds groups = ceil(taps / 4) groups of four words: taps 4g..4g+3
 * of each pixel as (pixel 0 taps 0, 2), (pixel 1 taps 0, 2), (pixel 0 taps 1, 3), (pixel 1 taps 1, 3),
 * two int16 per word, low halfword first. That is the order SXTB16 takes four weights in (bytes 0
 * and 2, then rotated by 8, bytes 1 and 3), so one LDRD of the buffer meets one extended weight pair
 * for both pixels. The halfwords past the last tap in an incomplete last group are never read.
 *
 * When C_IN is a multiple of four, every tap's channels are whole groups, extended straight from the
 * input. Otherwise each patch is first gathered as int8 in the filter's order (2 * 4 * groups bytes
 * before the int16 buffer in the scratch), the padding as the input zero point, and then extended a
 * group at a time. */
typedef struct {
    const int8_t *input;
    const int8_t *input_end; /* one past the input's last byte */
    int32_t in_h, in_w, in_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
    int32_t input_offset;
    int32_t taps;   /* KH * KW * C_IN: a filter row's length */
    int32_t groups; /* ceil(taps / 4) */
} hk_dsp_cv_shape;

/* n groups of four channels of both pixels into the patch buffer at b: x0 and x1 advance by s0 and s1
 * bytes a group (4 inside the input; 0 on a word of zero-point bytes for a tap in the padding, which
 * SXTAB16 turns into 0). Per group two LDR, four SXTAB16 (which add the offset pair as they extend)
 * and two STRD. */
HK_DSP_ALWAYS_INLINE int32_t *hk_dsp_cv_ext2(int32_t *b, const int8_t *x0, int32_t s0, const int8_t *x1, int32_t s1,
                                             int32_t n, int32_t off2)
{
    for (; n > 0; n--, x0 += s0, x1 += s1) {
        const uint32_t u = hk_dsp_load4(x0);
        const uint32_t v = hk_dsp_load4(x1);
        hk_dsp_store2_next(&b, hk_dsp_sxtab16_even(off2, u), hk_dsp_sxtab16_even(off2, v));
        hk_dsp_store2_next(&b, hk_dsp_sxtab16_odd(off2, u), hk_dsp_sxtab16_odd(off2, v));
    }
    return b;
}

/* The patches of output pixels (oy0, ox0) and (oy1, ox1) into the buffer b, when C_IN is a multiple
 * of four, so that every tap's channels are whole groups. A window row inside the input for both
 * pixels, with dilation.w 1, is one run of KW * C_IN contiguous inputs each; other rows go tap by
 * tap, a tap in the padding read from a word of zero points without advancing. */
HK_DSP_NOINLINE void hk_dsp_cv_patch_quads(const hk_dsp_cv_shape *sh, int32_t oy0, int32_t ox0, int32_t oy1,
                                           int32_t ox1, int32_t *b)
{
    const int32_t in_c = sh->in_c, cq = in_c >> 2, row_bytes = sh->in_w * in_c;
    const int32_t off2 = hk_dsp_splat2(sh->input_offset);
    const uint32_t zp4 = hk_dsp_splat4(-sh->input_offset);
    const int8_t *zp = (const int8_t *)&zp4;
    const int32_t ix0 = ox0 * sh->stride_w - sh->pad_left, ix1 = ox1 * sh->stride_w - sh->pad_left;
    const int32_t last = (sh->k_w - 1) * sh->dil_w;
    const int32_t run = sh->dil_w == 1 && ix0 >= 0 && ix1 >= 0 && ix0 + last < sh->in_w && ix1 + last < sh->in_w;
    int32_t iy0 = oy0 * sh->stride_h - sh->pad_top, iy1 = oy1 * sh->stride_h - sh->pad_top;
    for (int32_t ky = 0; ky < sh->k_h; ky++, iy0 += sh->dil_h, iy1 += sh->dil_h) {
        const int32_t ok0 = (uint32_t)iy0 < (uint32_t)sh->in_h, ok1 = (uint32_t)iy1 < (uint32_t)sh->in_h;
        const int8_t *row0 = sh->input + iy0 * row_bytes, *row1 = sh->input + iy1 * row_bytes;
        if (run && ok0 && ok1) {
            b = hk_dsp_cv_ext2(b, row0 + ix0 * in_c, 4, row1 + ix1 * in_c, 4, sh->k_w * cq, off2);
            continue;
        }
        for (int32_t kx = 0, x0 = ix0, x1 = ix1; kx < sh->k_w; kx++, x0 += sh->dil_w, x1 += sh->dil_w) {
            const int32_t in0 = ok0 && (uint32_t)x0 < (uint32_t)sh->in_w;
            const int32_t in1 = ok1 && (uint32_t)x1 < (uint32_t)sh->in_w;
            b = hk_dsp_cv_ext2(b, in0 ? row0 + x0 * in_c : zp, in0 ? 4 : 0, in1 ? row1 + x1 * in_c : zp, in1 ? 4 : 0,
                               cq, off2);
        }
    }
}

/* n >= 1 bytes from s to d. A word at a time when the words' last byte still lies within the input
 * (end): then up to 3 bytes past d + n are written too, which the caller writes again afterwards or
 * does not use. Byte by byte otherwise. (The empty asm keeps the byte loop from becoming a memcpy
 * call.) */
HK_DSP_ALWAYS_INLINE int8_t *hk_dsp_cv_copy(int8_t *d, const int8_t *s, int32_t n, const int8_t *end)
{
    const int32_t words = (n + 3) >> 2;
    if (end - s >= 4 * words) {
        for (int32_t k = words; k > 0; k--, d += 4, s += 4) {
            const uint32_t v = hk_dsp_load4(s);
            __builtin_memcpy(d, &v, sizeof v);
        }
        return d - (4 * words - n);
    }
    for (; n > 0; n--) {
        int8_t v = *s++;
        __asm__("" : "+r"(v));
        *d++ = v;
    }
    return d;
}

/* n bytes of value z at d. */
HK_DSP_ALWAYS_INLINE int8_t *hk_dsp_cv_fill(int8_t *d, int8_t z, int32_t n)
{
    for (; n > 0; n--) {
        __asm__("" : "+r"(z));
        *d++ = z;
    }
    return d;
}

/* Pixel (oy, ox)'s patch as int8, in the filter's order, into g (taps bytes, and up to 3 bytes past
 * them written over, which hk_dsp_cv_sums never reads): a tap in the padding holds the input zero
 * point -input_offset (in [-128, 127], as input_offset is in [-127, 128]), which the extension turns
 * into 0. A window wholly inside the input with dilation.w 1 is KH runs of KW * C_IN bytes, a word
 * per run when they fit one. in_c: C_IN, a constant in the one-channel copy. */
HK_DSP_ALWAYS_INLINE void hk_dsp_cv_gather_c(const hk_dsp_cv_shape *sh, int32_t oy, int32_t ox, int8_t *g,
                                             int32_t in_c)
{
    const int32_t span = sh->k_w * in_c, row_bytes = sh->in_w * in_c;
    const int32_t ix0 = ox * sh->stride_w - sh->pad_left;
    int32_t iy = oy * sh->stride_h - sh->pad_top;
    const int32_t inside_w = sh->dil_w == 1 && ix0 >= 0 && ix0 + sh->k_w - 1 < sh->in_w;
    if (inside_w && iy >= 0 && iy + (sh->k_h - 1) * sh->dil_h < sh->in_h) {
        const int32_t step = sh->dil_h * row_bytes;
        const int8_t *x = sh->input + iy * row_bytes + ix0 * in_c;
        if (span <= 4 && sh->input_end - x >= (sh->k_h - 1) * step + 4) {
            for (int32_t ky = sh->k_h; ky > 0; ky--, x += step, g += span) {
                const uint32_t v = hk_dsp_load4(x);
                __builtin_memcpy(g, &v, sizeof v);
            }
            return;
        }
        for (int32_t ky = sh->k_h; ky > 0; ky--, x += step) {
            g = hk_dsp_cv_copy(g, x, span, sh->input_end);
        }
        return;
    }
    const int8_t zp = (int8_t)-sh->input_offset;
    for (int32_t ky = 0; ky < sh->k_h; ky++, iy += sh->dil_h) {
        if ((uint32_t)iy >= (uint32_t)sh->in_h) {
            g = hk_dsp_cv_fill(g, zp, span);
            continue;
        }
        const int8_t *row = sh->input + iy * row_bytes;
        if (inside_w) {
            g = hk_dsp_cv_copy(g, row + ix0 * in_c, span, sh->input_end);
            continue;
        }
        int32_t ix = ix0;
        for (int32_t kx = 0; kx < sh->k_w; kx++, ix += sh->dil_w) {
            if ((uint32_t)ix < (uint32_t)sh->in_w) {
                g = hk_dsp_cv_copy(g, row + ix * in_c, in_c, sh->input_end);
            } else {
                g = hk_dsp_cv_fill(g, zp, in_c);
            }
        }
    }
}

HK_DSP_NOINLINE void hk_dsp_cv_gather_c1(const hk_dsp_cv_shape *sh, int32_t oy, int32_t ox, int8_t *g)
{
    hk_dsp_cv_gather_c(sh, oy, ox, g, 1);
}

/* Three input channels (an RGB image, the usual first layer): a 3x3 window wholly inside the input
 * with dilation.w 1 is three runs of 9 bytes, three words each (the last word's 3 bytes past a run
 * are written over by the next run, or past the patch, as hk_dsp_cv_gather_c allows); other
 * windows and filters take hk_dsp_cv_gather_c with C_IN 3. */
HK_DSP_NOINLINE void hk_dsp_cv_gather_c3_any(const hk_dsp_cv_shape *sh, int32_t oy, int32_t ox, int8_t *g)
{
    hk_dsp_cv_gather_c(sh, oy, ox, g, 3);
}

HK_DSP_ALWAYS_INLINE void hk_dsp_cv_gather_c3(const hk_dsp_cv_shape *sh, int32_t oy, int32_t ox, int8_t *g)
{
    const int32_t ix0 = ox * sh->stride_w - sh->pad_left, iy = oy * sh->stride_h - sh->pad_top;
    if (sh->k_h == 3 && sh->k_w == 3 && sh->dil_w == 1 && ix0 >= 0 && ix0 + 2 < sh->in_w && iy >= 0 &&
        iy + 2 * sh->dil_h < sh->in_h) {
        const int32_t step = sh->dil_h * sh->in_w * 3;
        const int8_t *x = sh->input + (iy * sh->in_w + ix0) * 3;
        if (sh->input_end - x >= 2 * step + 12) {
            for (int32_t ky = 3; ky > 0; ky--, x += step, g += 9) {
                const uint32_t v0 = hk_dsp_load4(x), v1 = hk_dsp_load4(x + 4), v2 = hk_dsp_load4(x + 8);
                __builtin_memcpy(g, &v0, sizeof v0);
                __builtin_memcpy(g + 4, &v1, sizeof v1);
                __builtin_memcpy(g + 8, &v2, sizeof v2);
            }
            return;
        }
    }
    hk_dsp_cv_gather_c3_any(sh, oy, ox, g);
}

/* Both pixels' patches with three input channels, in one call. */
HK_DSP_NOINLINE void hk_dsp_cv_gather2_c3(const hk_dsp_cv_shape *sh, int32_t oy0, int32_t ox0, int32_t oy1, int32_t ox1,
                                          int8_t *g0, int8_t *g1)
{
    hk_dsp_cv_gather_c3(sh, oy0, ox0, g0);
    hk_dsp_cv_gather_c3(sh, oy1, ox1, g1);
}

HK_DSP_NOINLINE void hk_dsp_cv_gather(const hk_dsp_cv_shape *sh, int32_t oy, int32_t ox, int8_t *g)
{
    hk_dsp_cv_gather_c(sh, oy, ox, g, sh->in_c);
}

/* Two gathered patches (g0, g1) into the patch buffer b: per group, two LDR, four SXTAB16, two STRD. */
HK_DSP_NOINLINE void hk_dsp_cv_expand2(const int8_t *g0, const int8_t *g1, int32_t groups, int32_t off2, int32_t *b)
{
    for (int32_t n = groups; n > 0; n--, g0 += 4, g1 += 4) {
        const uint32_t u = hk_dsp_load4(g0);
        const uint32_t v = hk_dsp_load4(g1);
        hk_dsp_store2_next(&b, hk_dsp_sxtab16_even(off2, u), hk_dsp_sxtab16_even(off2, v));
        hk_dsp_store2_next(&b, hk_dsp_sxtab16_odd(off2, u), hk_dsp_sxtab16_odd(off2, v));
    }
}

/* The patches of pixels (oy0, ox0) and (oy1, ox1) into the scratch; returns the patch buffer. */
HK_DSP_ALWAYS_INLINE int32_t *hk_dsp_cv_patches(const hk_dsp_cv_shape *sh, int32_t oy0, int32_t ox0, int32_t oy1,
                                                int32_t ox1, int32_t *scratch)
{
    if ((sh->in_c & 3) == 0) {
        hk_dsp_cv_patch_quads(sh, oy0, ox0, oy1, ox1, scratch);
        return scratch;
    }
    int8_t *g0 = (int8_t *)scratch, *g1 = g0 + 4 * sh->groups;
    int32_t *buf = scratch + 2 * sh->groups;
    if (sh->in_c == 1) {
        hk_dsp_cv_gather_c1(sh, oy0, ox0, g0);
        hk_dsp_cv_gather_c1(sh, oy1, ox1, g1);
    } else if (sh->in_c == 3) {
        hk_dsp_cv_gather2_c3(sh, oy0, ox0, oy1, ox1, g0, g1);
    } else {
        hk_dsp_cv_gather(sh, oy0, ox0, g0);
        hk_dsp_cv_gather(sh, oy1, ox1, g1);
    }
    hk_dsp_cv_expand2(g0, g1, sh->groups, hk_dsp_splat2(sh->input_offset), buf);
    return buf;
}

/* The sums of n filter rows from w (each taps long) over the pixel pair's patches in b, bias added:
 * acc[2c] pixel 0's and acc[2c + 1] pixel 1's of row c. Rows in pairs, a last odd one alone. The taps
 * of a last incomplete group go one weight at a time (SMLABB / SMLABT pick pixel 0's or pixel 1's
 * halfword). */
HK_DSP_NOINLINE void hk_dsp_cv_sums(const int32_t *buf, const int8_t *w, const int32_t *bias, int32_t n,
                                    int32_t taps, int32_t *acc)
{
    const int32_t quads = taps >> 2, tail = taps & 3;
    int32_t c = 0;
    for (; c + 2 <= n; c += 2, acc += 4) {
        const int8_t *w0 = w, *w1 = w + taps;
        w += 2 * taps;
        int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0; /* a<row><pixel> */
        if (bias) {
            a00 = a01 = bias[c];
            a10 = a11 = bias[c + 1];
        }
        const int32_t *b = buf;
        uint32_t u, v;
        int32_t x0, x1, t;
        HK_DSP_CV_GROUPS(quads);
        if (tail) { /* taps 0, 1, 2 of the last group: halfwords low of b[0..1], low of b[2..3], high of b[0..1] */
            int32_t p = w0[0], q = w1[0];
            a00 = __smlabb(p, b[0], a00);
            a01 = __smlabb(p, b[1], a01);
            a10 = __smlabb(q, b[0], a10);
            a11 = __smlabb(q, b[1], a11);
            if (tail > 1) {
                p = w0[1];
                q = w1[1];
                a00 = __smlabb(p, b[2], a00);
                a01 = __smlabb(p, b[3], a01);
                a10 = __smlabb(q, b[2], a10);
                a11 = __smlabb(q, b[3], a11);
                if (tail > 2) {
                    p = w0[2];
                    q = w1[2];
                    a00 = __smlabt(p, b[0], a00);
                    a01 = __smlabt(p, b[1], a01);
                    a10 = __smlabt(q, b[0], a10);
                    a11 = __smlabt(q, b[1], a11);
                }
            }
        }
        acc[0] = a00;
        acc[1] = a01;
        acc[2] = a10;
        acc[3] = a11;
    }
    if (c < n) {
        int32_t a0 = bias ? bias[c] : 0, a1 = a0;
        const int32_t *b = buf;
        for (int32_t k = quads; k > 0; k--, w += 4) {
            const uint32_t u = hk_dsp_load4(w);
            int32_t x0e, x1e, x0o, x1o;
            hk_dsp_load2_next(&b, &x0e, &x1e);
            hk_dsp_load2_next(&b, &x0o, &x1o);
            int32_t t = hk_dsp_sxtb16_even(u);
            a0 = __smlad(t, x0e, a0);
            a1 = __smlad(t, x1e, a1);
            t = hk_dsp_sxtb16_odd(u);
            a0 = __smlad(t, x0o, a0);
            a1 = __smlad(t, x1o, a1);
        }
        if (tail) {
            int32_t p = w[0];
            a0 = __smlabb(p, b[0], a0);
            a1 = __smlabb(p, b[1], a1);
            if (tail > 1) {
                p = w[1];
                a0 = __smlabb(p, b[2], a0);
                a1 = __smlabb(p, b[3], a1);
                if (tail > 2) {
                    p = w[2];
                    a0 = __smlabt(p, b[0], a0);
                    a1 = __smlabt(p, b[1], a1);
                }
            }
        }
        acc[0] = a0;
        acc[1] = a1;
    }
}

/* What the output stage of a pixel pair needs, the same for every pair. */
typedef struct {
    int32_t rq_step; /* 1 per channel, 0 per tensor */
    int32_t output_offset;
    uint32_t lo4, hi4; /* the activation bounds in every byte */
    int32_t fast;      /* double rounding, every shift in [-22, -1], every sum in [-2^30, 2^30) */
} hk_dsp_cv_out;

/* The n channels' sums acc (see hk_dsp_cv_sums) requantized, offset, clamped and stored to o0
 * (pixel 0) and o1 (pixel 1): channels in pairs, two 16-bit stores per pair. */
HK_DSP_ALWAYS_INLINE void hk_dsp_cv_outs(const hk_dsp_cv_out *a, const int32_t *acc, int32_t n,
                                         const hk_dsp_cv_rq *rq, int8_t *o0, int8_t *o1, int32_t rounding,
                                         int32_t fast)
{
    const int32_t step = a->rq_step, oo = a->output_offset;
    const uint32_t lo4 = a->lo4, hi4 = a->hi4;
    const int32_t *end = acc + 2 * (n & ~1);
    for (; acc < end; acc += 4, o0 += 2, o1 += 2) {
        const hk_dsp_cv_rq *q0 = rq, *q1 = rq + step;
        rq = q1 + step;
        int32_t v00, v01, v10, v11;
        if (fast) { /* every channel's n >= 0 and every sum's double fits (hk_dsp_cv_run) */
            v00 = acc[0];
            v01 = acc[1];
            v10 = acc[2];
            v11 = acc[3];
            hk_dsp_cv_out2(q0, &v00, &v01);
            hk_dsp_cv_out2(q1, &v10, &v11);
        } else if ((q0->n | q1->n) >= 0) {
            v00 = hk_dsp_cv_rq_fast(q0, acc[0], oo, rounding);
            v01 = hk_dsp_cv_rq_fast(q0, acc[1], oo, rounding);
            v10 = hk_dsp_cv_rq_fast(q1, acc[2], oo, rounding);
            v11 = hk_dsp_cv_rq_fast(q1, acc[3], oo, rounding);
        } else {
            v00 = hk_dsp_cv_rq_out(q0, acc[0], oo, rounding);
            v01 = hk_dsp_cv_rq_out(q0, acc[1], oo, rounding);
            v10 = hk_dsp_cv_rq_out(q1, acc[2], oo, rounding);
            v11 = hk_dsp_cv_rq_out(q1, acc[3], oo, rounding);
        }
        const uint32_t out4 = hk_dsp_clamp4(hk_dsp_pack4(v00, v10, v01, v11), lo4, hi4);
        const uint16_t out0 = (uint16_t)out4, out1 = (uint16_t)(out4 >> 16);
        __builtin_memcpy(o1, &out1, sizeof out1);
        __builtin_memcpy(o0, &out0, sizeof out0);
    }
    if (n & 1) {
        const int32_t v0 = hk_dsp_cv_rq_out(rq, acc[0], oo, rounding);
        const int32_t v1 = hk_dsp_cv_rq_out(rq, acc[1], oo, rounding);
        const uint32_t out2 = hk_dsp_clamp4(hk_dsp_pack4(v0, v1, 0, 0), lo4, hi4);
        *o1 = (int8_t)(out2 >> 8);
        *o0 = (int8_t)out2;
    }
}

HK_DSP_NOINLINE void hk_dsp_cv_outs_double(const hk_dsp_cv_out *a, const int32_t *acc, int32_t n,
                                           const hk_dsp_cv_rq *rq, int8_t *o0, int8_t *o1)
{
    hk_dsp_cv_outs(a, acc, n, rq, o0, o1, HK_ROUND_DOUBLE, 0);
}

HK_DSP_NOINLINE void hk_dsp_cv_outs_fast(const hk_dsp_cv_out *a, const int32_t *acc, int32_t n,
                                         const hk_dsp_cv_rq *rq, int8_t *o0, int8_t *o1)
{
    hk_dsp_cv_outs(a, acc, n, rq, o0, o1, HK_ROUND_DOUBLE, 1);
}

HK_DSP_NOINLINE void hk_dsp_cv_outs_single(const hk_dsp_cv_out *a, const int32_t *acc, int32_t n,
                                           const hk_dsp_cv_rq *rq, int8_t *o0, int8_t *o1)
{
    hk_dsp_cv_outs(a, acc, n, rq, o0, o1, HK_ROUND_SINGLE, 0);
}

/* Output channels [0, nb) of every output pixel (filter, bias, rq and output already at the block's
 * first channel): pixels in pairs; per pair, HK_DSP_CV_CHUNK channels summed, then requantized, at a
 * time. A last odd pixel has its patch in both slots and both "pixels" stored to the same place, with
 * the same values. */
static void hk_dsp_cv_block(const hk_dsp_cv_shape *sh, const hk_dsp_cv_out *a, const int8_t *filter,
                            const int32_t *bias, const hk_dsp_cv_rq *rq, int32_t nb, const hk_dims *output_dims,
                            int8_t *output, int32_t *scratch, int32_t rounding)
{
    const int32_t out_w = output_dims->w, out_c = output_dims->c, pixels = output_dims->h * out_w;
    const int32_t taps = sh->taps;
    int32_t acc[2 * HK_DSP_CV_CHUNK];
    int32_t oy = 0, ox = 0;
    for (int32_t p = 0; p < pixels; p += 2) {
        const int32_t oy0 = oy, ox0 = ox;
        if (++ox == out_w) {
            ox = 0;
            oy++;
        }
        int8_t *o0 = output + p * out_c, *o1 = o0;
        int32_t oy1 = oy0, ox1 = ox0;
        if (p + 1 < pixels) {
            o1 += out_c;
            oy1 = oy;
            ox1 = ox;
            if (++ox == out_w) {
                ox = 0;
                oy++;
            }
        }
        const int32_t *buf = hk_dsp_cv_patches(sh, oy0, ox0, oy1, ox1, scratch);
        for (int32_t c = 0; c < nb; c += HK_DSP_CV_CHUNK) {
            const int32_t n = nb - c < HK_DSP_CV_CHUNK ? nb - c : HK_DSP_CV_CHUNK;
            hk_dsp_cv_sums(buf, filter + c * taps, bias ? bias + c : 0, n, taps, acc);
            if (rounding == HK_ROUND_SINGLE) {
                hk_dsp_cv_outs_single(a, acc, n, rq + c * a->rq_step, o0 + c, o1 + c);
            } else if (a->fast) {
                hk_dsp_cv_outs_fast(a, acc, n, rq + c * a->rq_step, o0 + c, o1 + c);
            } else {
                hk_dsp_cv_outs_double(a, acc, n, rq + c * a->rq_step, o0 + c, o1 + c);
            }
        }
    }
}

static void hk_dsp_cv_run(const hk_dsp_cv_shape *sh, const hk_conv_params *params, const hk_quant *quant,
                          const int8_t *filter, const int32_t *bias, const hk_dims *output_dims, int8_t *output,
                          int32_t *scratch)
{
    const int32_t out_c = output_dims->c, rounding = quant->rounding;
    hk_dsp_cv_rq rq[HK_DSP_CV_ROW_BLOCK];
    hk_dsp_cv_out a;
    a.output_offset = params->output_offset;
    a.lo4 = hk_dsp_splat4(params->activation.min);
    a.hi4 = hk_dsp_splat4(params->activation.max);
    /* |sum| <= |bias| + taps * 128 * 255 (|w| <= 128, |x + input_offset| <= 255): a bound on the
     * biases keeps every sum within [-2^30, 2^30), as hk_dsp_cv_out2 needs. */
    a.fast = rounding == HK_ROUND_DOUBLE;
    for (int32_t k = 0; k < quant->count; k++) {
        a.fast &= quant->shift[k] >= -22 && quant->shift[k] <= -1;
    }
    uint32_t bmax = 0;
    for (int32_t k = 0; bias && k < out_c; k++) {
        const uint32_t b = bias[k] < 0 ? 0u - (uint32_t)bias[k] : (uint32_t)bias[k];
        bmax = b > bmax ? b : bmax;
    }
    a.fast &= (uint64_t)bmax + (uint64_t)sh->taps * (128u * 255u) < ((uint64_t)1 << 30);
    if (quant->count == 1) { /* one requantizer: every channel in one block */
        rq[0] = hk_dsp_cv_rq_prep(quant->multiplier[0], quant->shift[0], params->output_offset, rounding);
        a.rq_step = 0;
        hk_dsp_cv_block(sh, &a, filter, bias, rq, out_c, output_dims, output, scratch, rounding);
        return;
    }
    a.rq_step = 1;
    for (int32_t c0 = 0; c0 < out_c; c0 += HK_DSP_CV_ROW_BLOCK) {
        const int32_t nb = out_c - c0 < HK_DSP_CV_ROW_BLOCK ? out_c - c0 : HK_DSP_CV_ROW_BLOCK;
        for (int32_t k = 0; k < nb; k++) {
            rq[k] = hk_dsp_cv_rq_prep(quant->multiplier[c0 + k], quant->shift[c0 + k], params->output_offset,
                                      rounding);
        }
        hk_dsp_cv_block(sh, &a, filter + c0 * sh->taps, bias ? bias + c0 : 0, rq, nb, output_dims, output + c0,
                        scratch, rounding);
    }
}

#else /* no DSP extension: the sums tap by tap, no scratch */

/* The exact sum of one output value, tap by tap (the path without the DSP extension). */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_cv_sum(const hk_conv_params *params, const hk_dims *input_dims,
                                           const int8_t *input, const hk_dims *filter_dims, const int8_t *w,
                                           int32_t acc, int32_t y0, int32_t x0)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    for (int32_t ky = 0; ky < filter_dims->h; ky++) {
        const int32_t iy = y0 + ky * params->dilation.h;
        for (int32_t kx = 0; kx < filter_dims->w; kx++, w += in_c) {
            const int32_t ix = x0 + kx * params->dilation.w;
            if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
                continue;
            }
            const int8_t *x = input + (iy * in_w + ix) * in_c;
            for (int32_t ic = 0; ic < in_c; ic++) {
                acc += (int32_t)w[ic] * ((int32_t)x[ic] + params->input_offset);
            }
        }
    }
    return acc;
}

static void hk_dsp_cv_plain(const hk_conv_params *params, const hk_quant *quant, const hk_dims *input_dims,
                            const int8_t *input, const hk_dims *filter_dims, const int8_t *filter,
                            const int32_t *bias, const hk_dims *output_dims, int8_t *output)
{
    const int32_t taps = filter_dims->h * filter_dims->w * input_dims->c;
    const int32_t qstep = quant->count > 1 ? 1 : 0;
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        const int32_t y0 = oy * params->stride.h - params->padding.top;
        for (int32_t ox = 0; ox < output_dims->w; ox++) {
            const int32_t x0 = ox * params->stride.w - params->padding.left;
            for (int32_t oc = 0; oc < output_dims->c; oc++) {
                const int32_t acc = hk_dsp_cv_sum(params, input_dims, input, filter_dims, filter + oc * taps,
                                                  bias ? bias[oc] : 0, y0, x0);
                const int32_t v = hk_requantize_rounding(acc, quant->multiplier[oc * qstep],
                                                         quant->shift[oc * qstep], quant->rounding);
                *output++ = hk_clamp_s8(v + params->output_offset, params->activation.min, params->activation.max);
            }
        }
    }
}

#endif /* HK_DSP_SIMD */

hk_status hk_conv2d_s8(const hk_context *ctx, const hk_conv_params *params, const hk_quant *quant,
                       const hk_dims *input_dims, const int8_t *input, const hk_dims *filter_dims,
                       const int8_t *filter, const int32_t *bias, const hk_dims *output_dims,
                       int8_t *output)
{
#if HK_DSP_SIMD
    const int32_t taps = filter_dims->h * filter_dims->w * input_dims->c;
    const hk_dsp_cv_shape sh = {
        input, input + input_dims->h * input_dims->w * input_dims->c,
        input_dims->h, input_dims->w, input_dims->c, filter_dims->h, filter_dims->w,
        params->stride.h, params->stride.w, params->dilation.h, params->dilation.w,
        params->padding.top, params->padding.left, params->input_offset, taps, (taps + 3) >> 2,
    };
    const int32_t out_c = output_dims->c, padded = 4 * sh.groups;
    if (padded != taps && out_c <= HK_DSP_CV_PAD_ROWS) {
        /* The rows padded to whole groups after the patch buffers (6 * padded bytes): the padding's
         * weights are 0, so the patch's halfwords past the last tap, whatever they hold, add 0. */
        int8_t *w = (int8_t *)ctx->buf + 6 * padded;
        for (int32_t r = 0; r < out_c; r++) {
            for (int32_t t = 0; t < taps; t++) {
                w[r * padded + t] = filter[r * taps + t];
            }
            for (int32_t t = taps; t < padded; t++) {
                w[r * padded + t] = 0;
            }
        }
        hk_dsp_cv_shape sp = sh;
        sp.taps = padded; /* the rows' length; the patches keep their groups */
        hk_dsp_cv_run(&sp, params, quant, w, bias, output_dims, output, (int32_t *)ctx->buf);
        return HK_OK;
    }
    hk_dsp_cv_run(&sh, params, quant, filter, bias, output_dims, output, (int32_t *)ctx->buf);
#else
    (void)ctx;
    hk_dsp_cv_plain(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output);
#endif
    return HK_OK;
}
