/* libFuzzer harness for model/gguf: any byte string must either open (and then every accessor
 * must stay inside the bytes) or fail with one line naming the input. Seeds: fuzz/corpus/gguf/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/qtype.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Err err;
    /* an exact-size heap copy, so ASan flags any read past the end */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    Gguf *g = gguf_open_memory(copy, size, "fuzz.gguf", &err);
    if (!g) {
        if (strncmp(err.msg, "fuzz.gguf: ", 11) || strchr(err.msg, '\n')) abort();
        free(copy);
        return 0;
    }
    Buf b = {0};
    for (int i = 0; i < gguf_n_kv(g); i++) {
        const char *key = gguf_kv_key(g, i);
        if (gguf_find_kv(g, key) != i) abort();
        buf_clear(&b);
        gguf_kv_format(g, i, &b);
        int64_t iv;
        double dv;
        int bv;
        size_t len;
        (void)gguf_get_int(g, key, &iv);
        (void)gguf_get_float(g, key, &dv);
        (void)gguf_get_bool(g, key, &bv);
        (void)gguf_get_str(g, key, &len);
        int et;
        uint64_t n;
        if (!gguf_arr_info(g, i, &et, &n)) {
            volatile uint8_t sink = 0;
            for (uint64_t j = 0; j < n && j < 64; j++) {
                const char *s = gguf_arr_str(g, i, j, &len);
                if (s && len) sink ^= (uint8_t)(s[0] ^ s[len - 1]);
                (void)gguf_arr_int(g, i, j, &iv);
                (void)gguf_arr_float(g, i, j, &dv);
            }
            if (n) {
                (void)gguf_arr_str(g, i, n - 1, &len);
                (void)gguf_arr_float(g, i, n - 1, &dv);
            }
            (void)sink;
        }
    }
    buf_free(&b);
    /* every tensor's data lies inside the input; dequantize its first row when we can */
    for (int i = 0; i < gguf_n_tensors(g); i++) {
        const GgufTensor *t = gguf_tensor(g, i);
        if (gguf_find_tensor(g, t->name) != t) abort();
        const uint8_t *p = t->data;
        if (p < copy || t->nbytes > size || (size_t)(p - copy) > size - t->nbytes) abort();
        if (qtype_can_dequant(t->type) && t->ne[0] <= 4096) {
            float *row = malloc((size_t)t->ne[0] * sizeof *row);
            if (row && qdequant_row(t->type, t->data, row, t->ne[0])) abort();
            free(row);
        }
    }
    gguf_close(g);
    free(copy);
    return 0;
}
