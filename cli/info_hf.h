/* info_hf: `coldtok info` on a Hugging Face folder (or .safetensors file beside its config.json):
 * the family and shape, the quantization scheme of config.json's quantization_config, and per
 * weight matrix its scheme, shape, stored bytes and bits per weight, then the totals. Loads the
 * model (the mappings; packed linears stay packed). Returns the exit status. */
#ifndef COLDTOK_INFO_HF_H
#define COLDTOK_INFO_HF_H

int info_hf(const char *path);

#endif
