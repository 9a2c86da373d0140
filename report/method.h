/* method: how a variant was made, read from its GGUF's metadata, for the `method` and
 * `calibration` columns of models.csv and drift_models.csv (docs/output.md) and the series of
 * `coldtok plot`'s kl_vs_bits (docs/plots.md).
 *
 *   coldtok.quantize.method = "gptq", .calibration = "code.txt,text.txt"  (coldtok quantize)
 *       -> method "gptq", calibration "code.txt,text.txt" ("none" becomes empty)
 *   quantize.imatrix.file = "x.dat"                                    (llama.cpp with --imatrix)
 *       -> method "imatrix", calibration the file's name as recorded
 *   general.file_type a quantized type (not 0 F32, 1 F16, 32 BF16), no imatrix   (llama.cpp)
 *       -> method "llama.cpp", calibration empty
 *   general.file_type 1 or 32 (a conversion to 16 bits)
 *       -> method "f16" or "bf16", calibration empty
 *   anything else (an F16/F32 GGUF, a Hugging Face folder, a .safetensors file, an unreadable file)
 *       -> both empty: no quantization provenance.
 *
 * Nothing here fails: a file that cannot be read simply has no provenance. */
#ifndef COLDTOK_REPORT_METHOD_H
#define COLDTOK_REPORT_METHOD_H

#include <stddef.h>

typedef struct {
    char method[64];
    char calibration[512];
} VariantMethod;

/* The provenance of the model at path (a file or a folder). */
VariantMethod variant_method(const char *path);

#endif
