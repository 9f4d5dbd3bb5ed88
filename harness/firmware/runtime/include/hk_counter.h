/* The cycle counter, chosen at start-up by what actually advances (docs/protocol.md: counters). */
#ifndef HK_COUNTER_H
#define HK_COUNTER_H

#include <stdint.h>

typedef enum {
    HK_COUNTER_NONE = 0,   /* nothing advances: figures are meaningless and reported as such */
    HK_COUNTER_DWT = 1,    /* DWT CYCCNT: core clock cycles */
    HK_COUNTER_ICOUNT = 2, /* board timer proven to tick once per executed instruction */
    HK_COUNTER_TIMER = 3   /* board timer of unknown rate */
} hk_counter_kind;

hk_counter_kind hk_counter_init(void);
uint32_t hk_counter_read(void);
const char *hk_counter_name(hk_counter_kind kind);

#endif
