/* Inline helpers of the dsp variant's elementwise and pooling kernels (add, max pool, average pool,
 * global average pool): four int8 lanes per 32-bit word through the DSP extension (SSUB8 and SEL
 * for a signed byte max or min, SXTAB16 for sums in 16-bit lanes), SMMLAR for the add's
 * requantizations, and the rounding division of a pooled sum. Static only: the variant defines no
 * global symbol beside the API functions it replaces. */
#ifndef HK_DSP_SIMD_H
#define HK_DSP_SIMD_H

#include <stdint.h>

#include "hk_dsp_mac.h"
#include "hk_nn_types.h"

/* Four int8 to any address (one STR: the Cortex-M4 allows it unaligned). */
HK_DSP_ALWAYS_INLINE void hk_dsp_store4(int8_t *p, uint32_t v)
{
    __builtin_memcpy(p, &v, sizeof v);
}

/* Ra + ((a * b + 2^31) >> 32) in 64 bits, truncated to 32: SMMLAR. Ra * 2^32 is a whole multiple of
 * 2^32, so adding it before the rounding shift adds exactly Ra after it. */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_smmlar(int32_t ra, int32_t a, int32_t b)
{
#if HK_DSP_SIMD
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(ra));
    return r;
#else
    return (int32_t)(uint32_t)((uint64_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32) + (uint32_t)ra);
#endif
}

/* The rounding division of the pooling kernels, the reference's exactly: (sum + count / 2) / count
 * for sum >= 0 and (sum - count / 2) / count below, C's division truncating toward zero in both
 * (SDIV). half = count / 2; with s = sum >> 31 (0 or -1), (half ^ s) - s is half or -half.
 * For a sum of count int8 values the result lies in [-128, 127]: sum <= 127 * count gives
 * (sum + half) / count < 127 + 1, and sum >= -128 * count gives (sum - half) / count >= -128.5,
 * which truncates to -128 at most. */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_mean(int32_t sum, int32_t count, int32_t half)
{
    const int32_t s = sum >> 31;
    return (sum + ((half ^ s) - s)) / count;
}

/* ------------------------------------------------------------------------------------------------
 * Pooling windows. The windows are clipped to the input (padded positions are left out; the checks
 * leave every window at least one tap). Along a row of outputs, those wholly inside the input all
 * have one shape and go to the kernel's run routine as one run; the clipped ones at either end go as
 * runs of one pixel.
 * --------------------------------------------------------------------------------------------- */

/* A run of output pixels whose windows have one shape: rows x cols taps, c bytes apart within a
 * row, next_row bytes from past a row's last tap to the next row's first, step bytes from one
 * window to the next. */
typedef struct {
    int32_t c;
    int32_t rows;
    int32_t cols;
    int32_t next_row;
    int32_t step;
    int32_t act_min;
    int32_t act_max;
} hk_dsp_pool_run;

/* n output pixels from windows at win, win + step, ..., to out (c bytes each). */
typedef void (*hk_dsp_pool_run_fn)(const hk_dsp_pool_run *g, const int8_t *win, int8_t *out, int32_t n);

/* Every output pixel of a pooling layer, run by run. Everything is read into locals first: a store
 * through the int8 output could alias the parameters otherwise. */
HK_DSP_ALWAYS_INLINE void hk_dsp_pool(const hk_pool_params *params, const hk_dims *input_dims, const int8_t *input,
                                      const hk_hw *pool, const hk_dims *output_dims, int8_t *output,
                                      hk_dsp_pool_run_fn run)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t pool_h = pool->h, pool_w = pool->w;
    const int32_t stride_h = params->stride.h, stride_w = params->stride.w;
    const int32_t top = params->padding.top, left = params->padding.left;
    const int32_t row = in_w * c; /* bytes per input row */
    /* Output columns [first, last) have windows wholly inside the input: x0 = ox * stride_w - left
     * >= 0 and x0 + pool_w <= in_w. */
    int32_t first = (left + stride_w - 1) / stride_w;
    first = first < out_w ? first : out_w;
    const int32_t room = in_w - pool_w + left;
    int32_t last = room >= 0 ? room / stride_w + 1 : 0;
    last = last < out_w ? last : out_w;
    last = last > first ? last : first;
    hk_dsp_pool_run g = {c, 0, pool_w, row - pool_w * c, stride_w * c, params->activation.min,
                         params->activation.max};
    for (int32_t oy = 0; oy < out_h; oy++) {
        const int32_t y0 = oy * stride_h - top;
        const int32_t ky0 = y0 < 0 ? -y0 : 0;
        const int32_t ky1 = in_h - y0 < pool_h ? in_h - y0 : pool_h;
        g.rows = ky1 - ky0;
        const int8_t *in_y = input + (y0 + ky0) * row;
        int8_t *out_y = output + oy * out_w * c;
        for (int32_t ox = 0; ox < out_w; ox++) {
            if (ox == first && last > first) { /* the unclipped run, then what follows it */
                g.cols = pool_w;
                g.next_row = row - pool_w * c;
                run(&g, in_y + (first * stride_w - left) * c, out_y + first * c, last - first);
                ox = last;
                if (ox == out_w) {
                    break;
                }
            }
            const int32_t x0 = ox * stride_w - left;
            const int32_t kx0 = x0 < 0 ? -x0 : 0;
            const int32_t kx1 = in_w - x0 < pool_w ? in_w - x0 : pool_w;
            g.cols = kx1 - kx0;
            g.next_row = row - g.cols * c;
            run(&g, in_y + (x0 + kx0) * c, out_y + ox * c, 1);
        }
    }
}

#if HK_DSP_SIMD

/* Byte-wise signed max and min of four int8 lanes: SSUB8 sets a lane's GE flag where a >= b, SEL
 * takes that lane from its first operand where the flag is set. */
HK_DSP_ALWAYS_INLINE uint32_t hk_dsp_max4(uint32_t a, uint32_t b)
{
    (void)__ssub8((int8x4_t)a, (int8x4_t)b);
    return (uint32_t)__sel((int8x4_t)a, (int8x4_t)b);
}

HK_DSP_ALWAYS_INLINE uint32_t hk_dsp_min4(uint32_t a, uint32_t b)
{
    (void)__ssub8((int8x4_t)a, (int8x4_t)b);
    return (uint32_t)__sel((int8x4_t)b, (int8x4_t)a);
}

/* The low byte of each value, packed: byte k of the result is v_k's (BFI). */
HK_DSP_ALWAYS_INLINE uint32_t hk_dsp_bytes4(int32_t v0, int32_t v1, int32_t v2, int32_t v3)
{
    uint32_t p = (uint32_t)v0;
    __asm__("bfi %0, %1, #8, #8" : "+r"(p) : "r"(v1));
    __asm__("bfi %0, %1, #16, #8" : "+r"(p) : "r"(v2));
    __asm__("bfi %0, %1, #24, #8" : "+r"(p) : "r"(v3));
    return p;
}

/* The rounded means of four channels summed in 16-bit lanes, packed as four int8 (hk_dsp_mean for
 * each): channels 0 and 2 in e's low and high halves, channels 1 and 3 in o's. Every mean of int8
 * values lies in [-128, 127] (see hk_dsp_mean), so its low byte is the whole of it. */
HK_DSP_ALWAYS_INLINE uint32_t hk_dsp_means4(int32_t e, int32_t o, int32_t count, int32_t half)
{
    return hk_dsp_bytes4(hk_dsp_mean((int16_t)e, count, half), hk_dsp_mean((int16_t)o, count, half),
                         hk_dsp_mean(e >> 16, count, half), hk_dsp_mean(o >> 16, count, half));
}

#endif /* HK_DSP_SIMD */

#endif
