/* What a board provides to the runtime: a console and, optionally, a free-running timer. */
#ifndef HK_PLATFORM_H
#define HK_PLATFORM_H

#include <stdint.h>

void hk_platform_init(void);
void hk_platform_putc(char c);
/* Start a free-running 32-bit up-counter and return the address of its count register, or 0 if
 * the board has none. */
volatile const uint32_t *hk_platform_timer_start(void);

#endif
