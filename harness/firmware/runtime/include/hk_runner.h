#ifndef HK_RUNNER_H
#define HK_RUNNER_H

/* Print the final @done record with `status` and stop. */
__attribute__((noreturn)) void hk_runner_finish(const char *status);

#endif
