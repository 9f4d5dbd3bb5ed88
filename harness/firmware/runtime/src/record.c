#include "hk_record.h"

#include "hk_crc32.h"
#include "hk_platform.h"

static uint32_t crc;

static void emit(char c)
{
    hk_platform_putc(c);
    crc = hk_crc32_update(crc, &c, 1);
}

static void emit_str(const char *s)
{
    while (*s) {
        emit(*s++);
    }
}

static void emit_u32(uint32_t v)
{
    char buf[10];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        emit(buf[--n]);
    }
}

static void emit_i32(int32_t v)
{
    if (v < 0) {
        emit('-');
        emit_u32(0u - (uint32_t)v);
    } else {
        emit_u32((uint32_t)v);
    }
}

static void emit_key(const char *key)
{
    emit(' ');
    emit_str(key);
    emit('=');
}

void hk_rec_begin(const char *type)
{
    hk_platform_putc('@');
    crc = HK_CRC32_INIT;
    emit_str(type);
}

void hk_rec_str(const char *key, const char *value)
{
    emit_key(key);
    emit_str(value);
}

void hk_rec_u32(const char *key, uint32_t value)
{
    emit_key(key);
    emit_u32(value);
}

void hk_rec_i32(const char *key, int32_t value)
{
    emit_key(key);
    emit_i32(value);
}

void hk_rec_hex(const char *key, uint32_t value)
{
    emit_key(key);
    emit('0');
    emit('x');
    for (int shift = 28; shift >= 0; shift -= 4) {
        emit("0123456789abcdef"[(value >> shift) & 0xFu]);
    }
}

void hk_rec_s8_list(const char *key, const int8_t *values, uint32_t count)
{
    emit_key(key);
    for (uint32_t i = 0; i < count; i++) {
        if (i) {
            emit(',');
        }
        emit_i32(values[i]);
    }
}

void hk_rec_end(void)
{
    const uint32_t value = hk_crc32_final(crc);
    hk_platform_putc(' ');
    hk_platform_putc('*');
    for (int shift = 28; shift >= 0; shift -= 4) {
        hk_platform_putc("0123456789abcdef"[(value >> shift) & 0xFu]);
    }
    hk_platform_putc('\n');
}
