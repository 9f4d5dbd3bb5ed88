/* Arm MPS2/MPS3 FPGA images (AN386, AN500, AN505, AN547): the CMSDK APB UART0 as the console, at
 * HK_UART_BASE (the target row gives it: the address differs between the images). No timer: the
 * CMSDK timers tick at the board clock (25 or 32 MHz), a tick per 31 to 40 instructions under
 * QEMU's -icount, too coarse for a layer. On silicon the core's DWT counts; under QEMU the harness
 * counts with its plugin (docs/qemu-plugin.md). */
#include <stdint.h>

#include "hk_platform.h"

#ifndef HK_UART_BASE
#error "HK_UART_BASE must give the console UART's address (harness/targets.py)"
#endif

#define REG(offset) (*(volatile uint32_t *)(HK_UART_BASE + (offset)))
#define UART_DATA REG(0x000u)
#define UART_STATE REG(0x004u)
#define UART_CTRL REG(0x008u)
#define UART_BAUDDIV REG(0x010u)
#define UART_STATE_TX_FULL 1u
#define UART_CTRL_TX_ENABLE 1u

void hk_platform_init(void)
{
    UART_BAUDDIV = 16u; /* the least divider the UART accepts; the emulated line has no speed */
    UART_CTRL = UART_CTRL_TX_ENABLE;
}

void hk_platform_putc(char c)
{
    while (UART_STATE & UART_STATE_TX_FULL) {
    }
    UART_DATA = (uint8_t)c;
}

volatile const uint32_t *hk_platform_timer_start(void)
{
    return 0;
}
