/* UART records: "@type key=value ... *crc32\n", the CRC over everything between '@' and " *". */
#ifndef HK_RECORD_H
#define HK_RECORD_H

#include <stdint.h>

#define HK_PROTOCOL_VERSION 1

void hk_rec_begin(const char *type);
void hk_rec_str(const char *key, const char *value);
void hk_rec_u32(const char *key, uint32_t value);
void hk_rec_i32(const char *key, int32_t value);
void hk_rec_hex(const char *key, uint32_t value);
void hk_rec_s8_list(const char *key, const int8_t *values, uint32_t count);
void hk_rec_end(void);

#endif
