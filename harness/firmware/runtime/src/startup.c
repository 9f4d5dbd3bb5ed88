/* Reset and vectors, the same on every Cortex-M the harness targets (ARMv6-M, v7-M, v8-M): the
 * first 16 vector-table entries and the reset sequence do not depend on the board. The FPU is left
 * disabled on purpose: the inference path has no floating point, and any FP instruction would fault
 * (NOCP) and be reported. The exception is a core with the M-profile Vector Extension (Helium),
 * whose integer vector instructions need the FP coprocessors enabled: there the ELF scan for
 * floating point (harness/build/floatscan.py) is the proof that none is used. */
#include <stdint.h>

#include "hk_stack.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sstack, _estack;

int main(void);
void hk_fault_handler(void);
void hk_reset_handler(void);

/* Initial SP, reset, then the system exceptions, every one reported as a fault (the record carries
 * the exception number); peripheral IRQs are never enabled. Entries a core lacks (ARMv6-M has no
 * MemManage, BusFault or UsageFault) are never taken. */
__attribute__((section(".isr_vector"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&_estack),
    hk_reset_handler,
    hk_fault_handler, /* NMI */
    hk_fault_handler,  /* HardFault */
    hk_fault_handler,  /* MemManage */
    hk_fault_handler,  /* BusFault */
    hk_fault_handler,  /* UsageFault */
    0, 0, 0, 0,
    hk_fault_handler, /* SVCall */
    hk_fault_handler, /* DebugMonitor */
    0,
    hk_fault_handler, /* PendSV */
    hk_fault_handler, /* SysTick */
};

#define SCB_SHCSR (*(volatile uint32_t *)0xE000ED24u)
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

__attribute__((noreturn)) void hk_reset_handler(void)
{
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0u;
    }
    /* Paint the stack below the current frame so the runner can report its high-water mark. */
    uint32_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t *p = &_sstack; (uintptr_t)p < sp - 64u; p++) {
        *p = HK_STACK_PAINT;
    }
#if __ARM_ARCH >= 7
    /* Route MemManage, BusFault and UsageFault to their own vectors (all report the same way);
     * ARMv6-M has HardFault only. */
    SCB_SHCSR |= (1u << 16) | (1u << 17) | (1u << 18);
#endif
#if defined(__ARM_FEATURE_MVE) && __ARM_FEATURE_MVE
    /* Full access to CP10 and CP11, which the MVE instructions use. */
    SCB_CPACR |= 0xFu << 20;
    __asm volatile("dsb\n\tisb" ::: "memory");
#endif
    main();
    for (;;) {
    }
}
