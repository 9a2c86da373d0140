/* libFuzzer harness for model/safetensors: any byte string must either open (and then every
 * tensor's bytes must lie inside the input, without overlaps) or fail with one line naming the
 * input. Seeds: fuzz/corpus/safetensors/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Err err;
    /* an exact-size heap copy, so ASan flags any read past the end */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    SafeTensors *st = st_open_memory(copy, size, "fuzz.safetensors", &err);
    if (!st) {
        if (strncmp(err.msg, "fuzz.safetensors: ", 18) || strchr(err.msg, '\n')) abort();
        free(copy);
        return 0;
    }
    volatile uint8_t sink = 0;
    for (int i = 0; i < st_n_tensors(st); i++) {
        const StTensor *t = st_tensor(st, i);
        if (st_find(st, t->name) != t) abort();
        const uint8_t *p = t->data;
        if (p < copy || p + t->nbytes > copy + size) abort();
        if (t->nbytes) sink ^= p[0] ^ p[t->nbytes - 1];
    }
    (void)sink;
    st_close(st);
    free(copy);
    return 0;
}
