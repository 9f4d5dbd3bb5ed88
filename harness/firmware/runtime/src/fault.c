/* Fault handler for ARMv7-M: print the stacked PC and LR and the fault status registers as a
 * @fault record, then the failure record, so the host fails at once instead of by timeout. */
#include <stdint.h>

#include "hk_record.h"
#include "hk_runner.h"

#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u)
#define SCB_BFAR (*(volatile uint32_t *)0xE000ED38u)

void hk_fault_report(const uint32_t *frame, uint32_t exc_return);

__attribute__((naked)) void hk_fault_handler(void)
{
    __asm volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov r1, lr\n\t"
        "b hk_fault_report\n\t");
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
