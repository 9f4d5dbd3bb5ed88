/* Fault handler: print the stacked PC and LR and the fault status registers as a @fault record,
 * then the failure record, so the host fails at once instead of by timeout. ARMv6-M has no fault
 * status registers; there they are reported as 0. */
#include <stdint.h>

#include "hk_record.h"
#include "hk_runner.h"

#if __ARM_ARCH >= 7
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u)
#define SCB_BFAR (*(volatile uint32_t *)0xE000ED38u)
#else
#define SCB_CFSR 0u
#define SCB_HFSR 0u
#define SCB_MMFAR 0u
#define SCB_BFAR 0u
#endif

void hk_fault_report(const uint32_t *frame, uint32_t exc_return);

__attribute__((naked)) void hk_fault_handler(void)
{
    __asm volatile(
        /* The frame is on the stack EXC_RETURN bit 2 names; ARMv6-M instructions only. */
        "mrs r0, msp\n\t"
        "mov r1, lr\n\t"
        "movs r2, #4\n\t"
        "tst r1, r2\n\t"
        "beq 1f\n\t"
        "mrs r0, psp\n"
        "1:\n\t"
        "ldr r2, =hk_fault_report\n\t"
        "bx r2\n\t");
}

void hk_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t ipsr;
    __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
    hk_rec_begin("fault");
    hk_rec_u32("exception", ipsr & 0x1FFu);
    hk_rec_hex("pc", frame[6]);
    hk_rec_hex("lr", frame[5]);
    hk_rec_hex("xpsr", frame[7]);
    hk_rec_hex("cfsr", SCB_CFSR);
    hk_rec_hex("hfsr", SCB_HFSR);
    hk_rec_hex("mmfar", SCB_MMFAR);
    hk_rec_hex("bfar", SCB_BFAR);
    hk_rec_hex("exc_return", exc_return);
    hk_rec_end();
    hk_runner_finish("fault");
}
