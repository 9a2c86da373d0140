/* shard_le: the little-endian fields of drift's shard file (drift_shard.c) and of its per-byte
 * section (drift_bytes.c), so that the layout does not depend on the host. put_* append to a Buf;
 * get_* read from bytes the caller has checked are there. Floats travel as their bits (NAN and -0
 * survive). Header-only (static inline): the two writers and readers of one format share it. */
#ifndef COLDTOK_SHARD_LE_H
#define COLDTOK_SHARD_LE_H

#include <stdint.h>
#include <string.h>

#include "common/util.h"

static inline void put_u16(Buf *b, uint32_t v) {
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    buf_append(b, x, 2);
}
static inline void put_u32(Buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    buf_append(b, x, 4);
}
static inline void put_u64(Buf *b, uint64_t v) { put_u32(b, (uint32_t)v), put_u32(b, (uint32_t)(v >> 32)); }
static inline void put_f32(Buf *b, float f) {
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(b, v);
}
static inline void put_f64(Buf *b, double d) {
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(b, v);
}
static inline uint32_t get_u16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static inline uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t get_u64(const uint8_t *p) { return get_u32(p) | (uint64_t)get_u32(p + 4) << 32; }
static inline float get_f32(const uint8_t *p) {
    uint32_t v = get_u32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}
static inline double get_f64(const uint8_t *p) {
    uint64_t v = get_u64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

#endif
