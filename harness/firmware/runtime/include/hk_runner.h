#ifndef HK_RUNNER_H
#define HK_RUNNER_H

/* Print the final @done record with `status` and stop. */
__attribute__((noreturn)) void hk_runner_finish(const char *status);

/* Where the firmware stops for good, waiting for interrupts it never enables. A function of its own
 * so that QEMU's counting plugin sees its entry (HK_HALT_SYMBOL in harness/emu/symbols.py): a
 * run's instruction total is then everything before it, whenever the harness stops QEMU. */
__attribute__((noreturn, noinline)) void hk_halt(void);

#endif
