/* Pick the counter that really advances. DWT CYCCNT where the core has a working DWT (silicon,
 * Renode with a DWT); else the board timer, which is proven to count instructions when a block of
 * 64 extra NOPs costs exactly 64 more ticks (QEMU with -icount shift=0 and a 1 GHz timer clock).
 * A board with neither reports `none`, and its counts come from the emulator if they come at all. */
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

/* Two counter reads around 64 and around 128 NOPs. The bodies differ only in the NOP count, so the
 * compiler gives them the same code around it and the two spans differ by exactly 64 instructions
 * on a counter that counts instructions. They are not inlined because GCC sizes a .rept block as
 * one instruction and would branch over it short. */
__attribute__((noinline)) static uint32_t span_64_nops(void)
{
    const uint32_t before = hk_counter_read();
    __asm volatile(".rept 64\n\tnop\n\t.endr" ::: "memory");
    return hk_counter_read() - before;
}

__attribute__((noinline)) static uint32_t span_128_nops(void)
{
    const uint32_t before = hk_counter_read();
    __asm volatile(".rept 128\n\tnop\n\t.endr" ::: "memory");
    return hk_counter_read() - before;
}

hk_counter_kind hk_counter_init(void)
{
    hk_counter_kind kind = HK_COUNTER_NONE;
    if (dwt_counts()) {
        count_register = &DWT_CYCCNT;
        kind = HK_COUNTER_DWT;
    } else {
        volatile const uint32_t *timer = hk_platform_timer_start();
        if (timer != 0) {
            count_register = timer;
            kind = HK_COUNTER_TIMER;
        }
    }
    /* The proof runs whatever the counter, so that an emulator counting the firmware's reads from
     * outside (the QEMU plugin, docs/qemu-plugin.md) sees the same four reads first on every board
     * and can prove its own count with them. */
    const uint32_t short_span = span_64_nops();
    const uint32_t long_span = span_128_nops();
    if (kind == HK_COUNTER_TIMER) {
        if (short_span == 0u && long_span == 0u) {
            count_register = &zero;
            kind = HK_COUNTER_NONE;
        } else if (long_span - short_span == 64u) {
            kind = HK_COUNTER_ICOUNT;
        }
    }
    return kind;
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
