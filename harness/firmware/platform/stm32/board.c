/* STM32F2 and STM32F4 (the same RCC, GPIO, USART1 and TIM2 addresses): USART1 console on PA9 and
 * TIM2 as a free-running 32-bit counter. */
#include <stdint.h>

#include "hk_platform.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#define RCC_AHB1ENR REG(0x40023830u)
#define RCC_APB1ENR REG(0x40023840u)
#define RCC_APB2ENR REG(0x40023844u)
#define GPIOA_MODER REG(0x40020000u)
#define GPIOA_AFRH REG(0x40020024u)

#define USART1_SR REG(0x40011000u)
#define USART1_DR REG(0x40011004u)
#define USART1_BRR REG(0x40011008u)
#define USART1_CR1 REG(0x4001100Cu)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_UE (1u << 13)
#define USART_CR1_TE (1u << 3)

#define TIM2_CR1 REG(0x40000000u)
#define TIM2_EGR REG(0x40000014u)
#define TIM2_CNT REG(0x40000024u)
#define TIM2_PSC REG(0x40000028u)
#define TIM2_ARR REG(0x4000002Cu)

void hk_platform_init(void)
{
    RCC_AHB1ENR |= 1u;       /* GPIOA */
    RCC_APB2ENR |= 1u << 4;  /* USART1 */
    /* PA9 = USART1_TX: alternate function 7. */
    GPIOA_MODER = (GPIOA_MODER & ~(3u << 18)) | (2u << 18);
    GPIOA_AFRH = (GPIOA_AFRH & ~(0xFu << 4)) | (7u << 4);
    USART1_BRR = 0x8Bu; /* 115200 baud from the 16 MHz reset clock */
    USART1_CR1 = USART_CR1_UE | USART_CR1_TE;
}

void hk_platform_putc(char c)
{
    while (!(USART1_SR & USART_SR_TXE)) {
    }
    USART1_DR = (uint8_t)c;
}

volatile const uint32_t *hk_platform_timer_start(void)
{
    RCC_APB1ENR |= 1u; /* TIM2 */
    TIM2_PSC = 0u;
    TIM2_ARR = 0xFFFFFFFFu;
    TIM2_EGR = 1u; /* load the prescaler */
    TIM2_CR1 = 1u; /* count up */
    return &TIM2_CNT;
}
