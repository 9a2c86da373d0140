/* Tests of bf16 windows through oneDNN's AMX brgemm (model/matmul.c, AMX_MIN_M): on a CPU with AMX,
 * bf16 passes of 32 positions or more take brgemm with a primitive per M; elsewhere (and with
 * COLDTOK_MATMUL=gemm) they take oneDNN's gemm as before. Against the gemm path as reference:
 *  - a 100-position bf16 pass gives gemm's logits up to summation order (both round the same
 *    weights and inputs to bf16; 1e-3 of max |logit|, where bf16 vs f32 differ by up to 3e-2), and
 *    both stay that close to f32; the kernel description names the AMX brgemm when the CPU has it;
 *  - the same positions fed in steps of 40, 31 and 29 (AMX, gemm below 32, AMX with other panels'
 *    M) equal one call; and 70 distinct window lengths (more than the 64 AMX primitives made at
 *    most: the rest through gemm) each equal the first rows of the reference.
 * On a CPU without AMX every check but the kernel's name still runs (gemm against gemm). */
#include <dnnl.h>
#include <string.h>

#include "model/forward.h"
#include "model/model.h"
#include "tests/testutil.h"

#define N_POS 110
#define TOL 1e-3 /* relative to a row's max |logit|: summation order only */

static int cpu_has_amx(void) {
    return (dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx512_core_amx) == dnnl_cpu_isa_avx512_core_amx;
}

static Model *load_f16(void) {
    const char *g = NEED_FIXTURE("models/synth-llama/synth-llama-F16.gguf");
    Err err;
    Model *m = model_load(g, &err);
    if (!m) fail_msg("%s", err.msg);
    return m;
}

/* n ids: BOS then a fixed pseudo-random walk over the vocabulary. */
static void some_ids(int *ids, int n, int V) { walk_ids(ids, n, V, 1, 4242); }

/* A forward pass in compute c, through gemm only when gemm is set (COLDTOK_MATMUL=gemm at fwd_new). */
static Forward *new_forward(const Model *m, Compute c, int gemm) {
    Err err;
    if (gemm) setenv("COLDTOK_MATMUL", "gemm", 1);
    Forward *f = fwd_new(m, c, &err);
    unsetenv("COLDTOK_MATMUL");
    if (!f) fail_msg("%s", err.msg);
    return f;
}

/* All logits of ids[0..n) in steps of the given sizes (cycled), from position 0: [n][V]. */
static float *eval_steps(Forward *f, const int *ids, int n, const int *steps, int n_steps, int V) {
    Err err;
    float *lg = xmalloc((size_t)n * V * sizeof(float));
    fwd_rewind(f, 0);
    for (int i = 0, k = 0; i < n; k++) {
        int step = steps[k % n_steps] < n - i ? steps[k % n_steps] : n - i;
        if (fwd_eval(f, ids + i, step, lg + (size_t)i * V, 1, &err) != 0) fail_msg("%s", err.msg);
        i += step;
    }
    return lg;
}

static void window_matches_gemm(void **state) {
    (void)state;
    Model *m = load_f16();
    int V = m->cfg.n_vocab, ids[N_POS], all[1] = {100};
    some_ids(ids, N_POS, V);
    Forward *amx = new_forward(m, COMPUTE_BF16, 0), *gemm = new_forward(m, COMPUTE_BF16, 1);
    Forward *f32 = new_forward(m, COMPUTE_F32, 0);
    float *a = eval_steps(amx, ids, 100, all, 1, V), *g = eval_steps(gemm, ids, 100, all, 1, V);
    float *x = eval_steps(f32, ids, 100, all, 1, V);
    double d = worst_row_diff(a, g, 100, V), da = worst_row_diff(a, x, 100, V), dg = worst_row_diff(g, x, 100, V);
    printf("# kernels: %s | %s\n", fwd_kernel(amx), fwd_kernel(gemm));
    printf("# 100 positions, bf16: AMX vs gemm %.3g, AMX vs f32 %.3g, gemm vs f32 %.3g (of max |logit|)\n", d, da,
           dg);
    assert_true(d < TOL);
    assert_true(da > 0 && da < 0.03);
    assert_true(dg > 0 && dg < 0.03);
    assert_null(strstr(fwd_kernel(gemm), "amx"));
    if (cpu_has_amx()) assert_non_null(strstr(fwd_kernel(amx), "brg:avx512_core_amx"));
    else printf("# this CPU has no AMX: both passes took gemm\n");
    free(a), free(g), free(x);
    fwd_free(amx), fwd_free(gemm), fwd_free(f32);
    model_free(m);
}

static void steps_and_many_lengths(void **state) {
    (void)state;
    Model *m = load_f16();
    int V = m->cfg.n_vocab, ids[N_POS], all[1] = {N_POS}, steps[3] = {40, 31, 29};
    some_ids(ids, N_POS, V);
    Forward *gemm = new_forward(m, COMPUTE_BF16, 1), *f = new_forward(m, COMPUTE_BF16, 0);
    float *ref = eval_steps(gemm, ids, N_POS, all, 1, V);
    float *s = eval_steps(f, ids, N_POS, steps, 3, V);
    double d = worst_row_diff(s, ref, N_POS, V);
    printf("# %d positions in steps of 40, 31, 29 vs one gemm call: %.3g\n", N_POS, d);
    assert_true(d < TOL);
    free(s);
    /* 70 lengths, 32..101: one call each from position 0 (a fresh primitive per length until 64) */
    double worst = 0;
    for (int n = 32; n < 102; n++) {
        int one[1] = {n};
        float *lg = eval_steps(f, ids, n, one, 1, V);
        worst = fmax(worst, worst_row_diff(lg, ref, n, V));
        free(lg);
    }
    printf("# 70 window lengths vs the reference's first rows: %.3g (%s)\n", worst, fwd_kernel(f));
    assert_true(worst < TOL);
    free(ref);
    fwd_free(gemm), fwd_free(f);
    model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_matches_gemm),
        cmocka_unit_test(steps_and_many_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
