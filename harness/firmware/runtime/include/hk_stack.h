#ifndef HK_STACK_H
#define HK_STACK_H

#include <stdint.h>

#define HK_STACK_PAINT 0xA5A5A5A5u

/* Bytes of the painted stack that have been written since reset (the high-water mark). */
uint32_t hk_stack_used(void);
uint32_t hk_stack_size(void);

#endif
