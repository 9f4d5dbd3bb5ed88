/* Pick the counter that really advances. DWT CYCCNT where the core has a working DWT (silicon,
 * Renode with a DWT); else the board timer, which is proven to count instructions when a block of
 * 64 extra NOPs costs exactly 64 more ticks (QEMU with -icount shift=0 and a 1 GHz timer clock).
 * Both timed blocks are single asm sequences, so the compiler cannot make them differ; they are
 * not inlined because GCC sizes a .rept block as one instruction and would branch over it short. */
#include "hk_counter.h"

#include "hk_platform.h"

#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL_NOCYCCNT (1u << 25)
#define DWT_CTRL_CYCCNTENA 1u

static const uint32_t zero;
static volatile const uint32_t *count_register = &zero;

/* An emulated DWT may advance only at the emulator's time-quantum boundaries (Renode: every 100 µs of
 * virtual time by default, 10,000 instructions), so wait that long for the first tick. The wait is
 * skipped where the enable bit does not stick: there is no DWT at all (QEMU). */
#define DWT_WAIT_READS (1u << 20)

static int dwt_counts(void)
{
    DEMCR |= DEMCR_TRCENA;
    if (DWT_CTRL & DWT_CTRL_NOCYCCNT) {
        return 0;
    }
    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    if (!(DWT_CTRL & DWT_CTRL_CYCCNTENA)) {
        return 0;
    }
    for (uint32_t i = 0; i < DWT_WAIT_READS; i++) {
        if (DWT_CYCCNT != 0u) {
            return 1;
        }
    }
    return 0;
}

__attribute__((noinline)) static uint32_t ticks_64_nops(volatile const uint32_t *reg)
{
    uint32_t before, after;
    __asm volatile("ldr %0, [%2]\n\t.rept 64\n\tnop\n\t.endr\n\tldr %1, [%2]"
                   : "=&r"(before), "=&r"(after)
                   : "r"(reg)
                   : "memory");
    return after - before;
}

__attribute__((noinline)) static uint32_t ticks_128_nops(volatile const uint32_t *reg)
{
    uint32_t before, after;
    __asm volatile("ldr %0, [%2]\n\t.rept 128\n\tnop\n\t.endr\n\tldr %1, [%2]"
                   : "=&r"(before), "=&r"(after)
                   : "r"(reg)
                   : "memory");
    return after - before;
}

hk_counter_kind hk_counter_init(void)
{
    if (dwt_counts()) {
        count_register = &DWT_CYCCNT;
        return HK_COUNTER_DWT;
    }
    volatile const uint32_t *timer = hk_platform_timer_start();
    if (timer == 0) {
        return HK_COUNTER_NONE;
    }
    const uint32_t short_block = ticks_64_nops(timer);
    const uint32_t long_block = ticks_128_nops(timer);
    if (short_block == 0u && long_block == 0u) {
        return HK_COUNTER_NONE;
    }
    count_register = timer;
    return long_block - short_block == 64u ? HK_COUNTER_ICOUNT : HK_COUNTER_TIMER;
}

/* Never inlined: Renode's backend hooks this function's entry to make every read exact. */
__attribute__((noinline)) uint32_t hk_counter_read(void)
{
    return *count_register;
}

const char *hk_counter_name(hk_counter_kind kind)
{
    switch (kind) {
    case HK_COUNTER_DWT:
        return "dwt";
    case HK_COUNTER_ICOUNT:
        return "icount";
    case HK_COUNTER_TIMER:
        return "timer";
    default:
        return "none";
    }
}
