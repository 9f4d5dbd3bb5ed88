#include "hk_stack.h"

extern uint32_t _sstack;
extern uint32_t _estack;

uint32_t hk_stack_size(void)
{
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)&_sstack);
}

uint32_t hk_stack_used(void)
{
    const uint32_t *p = &_sstack;
    while (p < &_estack && *p == HK_STACK_PAINT) {
        p++;
    }
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}
