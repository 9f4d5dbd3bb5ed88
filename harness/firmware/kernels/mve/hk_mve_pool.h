/* The window arithmetic of the mve pools: which rows and columns of a window lie inside the input
 * (padded positions are left out, as the reference leaves them out), and the reference's rounded mean.
 * Static inline only, like every helper of the variant. */
#ifndef HK_MVE_POOL_H
#define HK_MVE_POOL_H

#include <stdint.h>

#include "hk_nn_types.h"

/* The in-bounds part [first, last) of a window of `size` starting at `start` along an axis of
 * `extent`; the checks keep padding below the window, so it is never empty. */
static inline void hk_mve_pool_span(int32_t start, int32_t size, int32_t extent, int32_t *first, int32_t *last)
{
    *first = start < 0 ? -start : 0;
    *last = extent - start < size ? extent - start : size;
}

/* The reference's mean of `count` values summing to `sum`: divided and rounded half away from zero. */
static inline int32_t hk_mve_pool_mean(int32_t sum, int32_t count)
{
    return sum >= 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

#endif
