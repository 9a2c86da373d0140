/* rope_scaling: the arithmetic of RoPE context-extension schemes, as data the forward pass reads.
 *
 * Every scheme coldtok implements becomes, at load time, (a) divisors of the base frequencies
 * theta^(-2i/n_rot), one per rotated pair (Model.rope_freqs), (b) a linear position divisor
 * (Config.rope_scale) and (c) an attention factor that multiplies RoPE's cos and sin
 * (Config.rope_attn_factor), so model/forward.c's rope_table stays one loop:
 *   linear    position / factor
 *   llama3    divisors from the wavelength bands (model.c's llama3_factors; GGUF rope_freqs)
 *   YaRN      divisors that ramp from 1 (high frequencies, extrapolated) to factor (low ones,
 *             interpolated) between the correction dims of beta_fast and beta_slow rotations,
 *             and the attention factor 0.1 ln(factor) + 1 (DeepSeek-V2: the ratio of two such
 *             terms, rope_yarn_mscale) times any explicit one
 *   LongRoPE  per-pair divisors given by the checkpoint (short and long sets; coldtok uses the
 *             short set, see docs/models.md) and sqrt(1 + ln(scale) / ln(original context))
 * The formulas follow transformers' modeling_rope_utils (_compute_yarn_parameters,
 * _compute_longrope_parameters) and ggml's rope (rope_yarn, ggml_rope_yarn_corr_dims).
 * No state, no allocation. */
#ifndef COLDTOK_ROPE_SCALING_H
#define COLDTOK_ROPE_SCALING_H

typedef enum {
    ROPE_SCALING_NONE,     /* none, linear (Config.rope_scale) or llama3 (Model.rope_freqs) */
    ROPE_SCALING_YARN,
    ROPE_SCALING_LONGROPE, /* also "su", its first name */
} RopeScalingType;

#define YARN_BETA_FAST_DEFAULT 32.0
#define YARN_BETA_SLOW_DEFAULT 1.0

/* "yarn", "longrope", or "none". */
const char *rope_scaling_name(RopeScalingType t);

/* YaRN's divisors of the n_rot/2 base frequencies, multiplied into out[i] (start from 1s):
 * pair i keeps its frequency below the correction dim of beta_fast rotations over orig_ctx
 * positions, is divided by factor above the one of beta_slow, linearly in between (floor and ceil
 * of the two dims, clamped to 0 .. n_rot-1, as both references do). */
void rope_yarn_divisors(float *out, int n_rot, double theta, double factor, double orig_ctx,
                        double beta_fast, double beta_slow);

/* YaRN's magnitude correction for a context extension factor: 0.1 mscale ln(factor) + 1 (1 for
 * factor <= 1). The default attention factor is rope_yarn_mscale(factor, 1); DeepSeek-V2's
 * (mscale, mscale_all_dim) is rope_yarn_mscale(f, mscale) / rope_yarn_mscale(f, mscale_all_dim). */
double rope_yarn_mscale(double factor, double mscale);

/* LongRoPE's attention factor for scale = max_position_embeddings / original context:
 * sqrt(1 + ln(scale) / ln(orig_ctx)), 1 for scale <= 1. */
double rope_longrope_attn_factor(double scale, double orig_ctx);

#endif
