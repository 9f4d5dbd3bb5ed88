/* CRC-32 (IEEE 802.3, as zlib computes it). */
#ifndef HK_CRC32_H
#define HK_CRC32_H

#include <stdint.h>

#define HK_CRC32_INIT 0xFFFFFFFFu

/* Fold `size` bytes into a running CRC state (start from HK_CRC32_INIT). */
uint32_t hk_crc32_update(uint32_t state, const void *data, uint32_t size);

/* The CRC of a finished state. */
static inline uint32_t hk_crc32_final(uint32_t state)
{
    return state ^ 0xFFFFFFFFu;
}

#endif
