/* Nordic nRF51822 (the BBC micro:bit, Cortex-M0): the UART as the console, at HK_UART_BASE. No
 * timer: the nRF51 timers run at 16 MHz at most and the core has no DWT, so under QEMU the harness
 * counts with its plugin (docs/qemu-plugin.md). */
#include <stdint.h>

#include "hk_platform.h"

#ifndef HK_UART_BASE
#error "HK_UART_BASE must give the console UART's address (harness/targets.py)"
#endif

#define REG(offset) (*(volatile uint32_t *)(HK_UART_BASE + (offset)))
#define UART_TASKS_STARTTX REG(0x008u)
#define UART_EVENTS_TXDRDY REG(0x11Cu)
#define UART_ENABLE REG(0x500u)
#define UART_TXD REG(0x51Cu)
#define UART_ENABLE_ON 4u

static int sent_before;

void hk_platform_init(void)
{
    UART_ENABLE = UART_ENABLE_ON;
    UART_TASKS_STARTTX = 1u;
}

void hk_platform_putc(char c)
{
    /* TXDRDY says the previous byte has left; the first byte has no previous one. */
    if (sent_before) {
        while (!UART_EVENTS_TXDRDY) {
        }
    }
    UART_EVENTS_TXDRDY = 0u;
    UART_TXD = (uint8_t)c;
    sent_before = 1;
}

volatile const uint32_t *hk_platform_timer_start(void)
{
    return 0;
}
