/* method: see method.h. */
#include "report/method.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "formats/gguf.h"

/* The string value of key, as a C string in dst (empty when absent or not a string). */
static void copy_str(const Gguf *g, const char *key, char *dst, size_t cap) {
    size_t len = 0;
    const char *s = gguf_get_str(g, key, &len);
    if (!s) {
        *dst = '\0';
        return;
    }
    if (len >= cap) len = cap - 1;
    memcpy(dst, s, len);
    dst[len] = '\0';
}

VariantMethod variant_method(const char *path) {
    VariantMethod v = {{0}, {0}};
    size_t n = strlen(path);
    if (!is_file(path) || n < 5 || strcmp(path + n - 5, ".gguf")) return v;
    Err err;
    Gguf *g = gguf_open(path, &err);
    if (!g) return v;
    if (gguf_find_kv(g, "coldtok.quantize.method") >= 0) {
        copy_str(g, "coldtok.quantize.method", v.method, sizeof v.method);
        copy_str(g, "coldtok.quantize.calibration", v.calibration, sizeof v.calibration);
        if (!strcmp(v.calibration, "none")) v.calibration[0] = '\0';
    } else if (gguf_find_kv(g, "quantize.imatrix.file") >= 0) {
        snprintf(v.method, sizeof v.method, "imatrix");
        copy_str(g, "quantize.imatrix.file", v.calibration, sizeof v.calibration);
    } else {
        int64_t ft; /* llama_ftype: 0 all F32, 1 mostly F16, 32 mostly BF16; the rest are quantized */
        if (gguf_get_int(g, "general.file_type", &ft) == 0 && ft != 0)
            snprintf(v.method, sizeof v.method, "%s", ft == 1 ? "f16" : ft == 32 ? "bf16" : "llama.cpp");
    }
    gguf_close(g);
    return v;
}
