/* gguf_meta: GGUF metadata being assembled before it is written: an ordered list of (key, value
 * type, value serialized as in a file) in which setting a key again replaces its value where it
 * stands, so keys gathered from several sources (a source file's metadata, a model's config, a
 * tokenizer) go through one path and none is written twice.
 *
 *   GgufMeta *m = gm_new();  gm_copy / gm_str / gm_u32 / ... / gm_remove;  gm_write(m, writer);
 *
 * Ownership: the list copies keys and values; gm_free frees them. Values are little-endian as in
 * the file (x86 and ARM hosts). No errors but gm_copy's. */
#ifndef COLDTOK_GGUF_META_H
#define COLDTOK_GGUF_META_H

#include <stdint.h>

#include "common/util.h"
#include "formats/gguf.h"
#include "formats/gguf_write.h"

typedef struct GgufMeta GgufMeta;

GgufMeta *gm_new(void);
void gm_free(GgufMeta *m);

void gm_str(GgufMeta *m, const char *key, const char *val);
void gm_u32(GgufMeta *m, const char *key, uint32_t val);
void gm_u64(GgufMeta *m, const char *key, uint64_t val);
void gm_f32(GgufMeta *m, const char *key, float val);
/* A value of any type already serialized (the bytes gw_kv_raw takes); its bytes are taken and
 * *val is left empty. type: formats/gguf.h GgufValueType. */
void gm_take(GgufMeta *m, const char *key, uint32_t type, Buf *val);
/* Metadata entry kv of g, unchanged. -1 (and nothing set) for an array of arrays, which the
 * reader does not expose (no llama.cpp key uses one). */
int gm_copy(GgufMeta *m, const Gguf *g, int kv);
/* Drops a key (nothing when it is absent). */
void gm_remove(GgufMeta *m, const char *key);

/* Adds every entry, in list order, to w (gw_kv_raw). */
void gm_write(const GgufMeta *m, GgufWriter *w);

#endif
