/* rope_scaling: see rope_scaling.h. */
#include "model/rope_scaling.h"

#include <math.h>

const char *rope_scaling_name(RopeScalingType t) {
    return t == ROPE_SCALING_YARN ? "yarn" : t == ROPE_SCALING_LONGROPE ? "longrope" : "none";
}

/* The pair index at which a frequency makes n_rotations turns over ctx positions. */
static double corr_dim(int n_rot, double theta, double ctx, double n_rotations) {
    return n_rot * log(ctx / (n_rotations * 2 * M_PI)) / (2 * log(theta));
}

void rope_yarn_divisors(float *out, int n_rot, double theta, double factor, double orig_ctx,
                        double beta_fast, double beta_slow) {
    double lo = floor(corr_dim(n_rot, theta, orig_ctx, beta_fast));
    double hi = ceil(corr_dim(n_rot, theta, orig_ctx, beta_slow));
    if (lo < 0) lo = 0;
    if (hi > n_rot - 1) hi = n_rot - 1;
    double span = hi - lo > 0.001 ? hi - lo : 0.001; /* both references' guard against lo == hi */
    for (int i = 0; i < n_rot / 2; i++) {
        double y = (i - lo) / span;
        double keep = 1 - (y < 0 ? 0 : y > 1 ? 1 : y); /* 1: extrapolated (frequency kept) */
        /* frequency * (keep + (1 - keep) / factor), as a divisor */
        out[i] = (float)(out[i] / (keep + (1 - keep) / factor));
    }
}

double rope_yarn_mscale(double factor, double mscale) {
    return factor <= 1 ? 1.0 : 0.1 * mscale * log(factor) + 1.0;
}

double rope_longrope_attn_factor(double scale, double orig_ctx) {
    return scale <= 1 || orig_ctx <= 1 ? 1.0 : sqrt(1 + log(scale) / log(orig_ctx));
}
