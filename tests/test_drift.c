/* Tests of analysis/tfdrift (coldtok drift's runner) on the real stories260K models:
 * - one window that is exactly the fixture prompt: the scored positions' log-probabilities and KL
 *   equal those computed here, in double, from the fixtures' float64-reference logits;
 * - on English text, F16 drifts from F32 by almost nothing and Q4_0 by far more;
 * - per-byte comparison: the base's bits per byte are its token log-likelihoods spread over bytes;
 * - empty, non-UTF-8, short files are counted, never scored. */
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/metrics.h"
#include "analysis/drift.h"
#include "tests/testutil.h"

#define STORIES "models/stories260K/"

static void write_file(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(data, 1, len, f);
    fclose(f);
}

/* Runs the models on PATHS with --ctx CTX. */
static void run(const char **models, int n, const char *path, const char *lang, int ctx, long max_tokens,
                int bytes_only, KwSet *kw, Corpus *c, TfRun *r) {
    static const char *const NAMES[] = {"base", "v1", "v2", "v3"};
    TfOptions o = {.models = models, .names = NAMES, .nmodels = n, .ctx = ctx, .max_tokens = max_tokens,
                   .compute = COMPUTE_F32, .bytes_only = bytes_only};
    Err err;
    memset(kw, 0, sizeof *kw), memset(c, 0, sizeof *c);
    assert_int_equal(kw_load_builtin(kw, &err), 0);
    const char *paths[] = {path};
    assert_int_equal(corpus_gather(c, paths, 1, lang, kw, &err), 0);
    int rc = tfrun(&o, c, kw, r, &err);
    if (rc) printf("# %s\n", err.msg);
    assert_int_equal(rc, 0);
}

static void done(KwSet *kw, Corpus *c, TfRun *r) {
    tfrun_free(r);
    corpus_free(c);
    kw_free(kw);
}

static void prompt_window_matches_reference_logits(void **state) {
    (void)state;
    char f32[4096], q4[4096], ref_p[4096], ref_q[4096];
    snprintf(f32, sizeof f32, "%s", NEED_FIXTURE(STORIES "stories260K-F32.gguf"));
    snprintf(q4, sizeof q4, "%s", NEED_FIXTURE(STORIES "stories260K-Q4_0mix.gguf"));
    snprintf(ref_p, sizeof ref_p, "%s", NEED_FIXTURE(STORIES "stories260K-F32.prompt.dequant.logits.f32"));
    snprintf(ref_q, sizeof ref_q, "%s", NEED_FIXTURE(STORIES "stories260K-Q4_0mix.prompt.dequant.logits.f32"));
    /* "Once upon a time" -> ▁Once ▁upon ▁a ▁time (403 407 261 378); with <s> a window of 5 */
    char dir[] = "/tmp/coldtok-drift-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[256];
    snprintf(file, sizeof file, "%s/story.txt", dir);
    write_file(file, "Once upon a time", 16);
    const char *models[] = {f32, q4};
    KwSet kw;
    Corpus c;
    TfRun r;
    run(models, 2, file, NULL, 5, 0, 0, &kw, &c, &r);
    assert_int_equal(r.windows, 1);
    /* positions 2 and 3 (ctx/2 .. ctx-2) predict "▁a" (261) and "▁time" (378) */
    const TfModel *v = &r.models[1];
    assert_int_equal(v->pos.n, 2);
    size_t np, nq;
    float *zp = read_f32(ref_p, &np), *zq = read_f32(ref_q, &nq);
    int V = 512;
    assert_int_equal(np, 5 * V);
    const int next[2] = {261, 378};
    double *lp = xmalloc(V * sizeof(double)), *lq = xmalloc(V * sizeof(double));
    for (int i = 0; i < 2; i++) {
        metric_log_softmax(zp + (size_t)(2 + i) * V, V, lp);
        metric_log_softmax(zq + (size_t)(2 + i) * V, V, lq);
        double kl = metric_kl_divergence(lp, lq, V);
        printf("# position %d: kl %.9g (reference %.9g), lp_base %.7f (%.7f), lp_var %.7f (%.7f)\n", 2 + i,
               v->pos.v[i].kl, kl, v->pos.v[i].lp_base, lp[next[i]], v->pos.v[i].lp_var, lq[next[i]]);
        assert_true(fabs(v->pos.v[i].lp_base - lp[next[i]]) < 1e-4);
        assert_true(fabs(v->pos.v[i].lp_var - lq[next[i]]) < 1e-4);
        assert_true(fabs(v->pos.v[i].kl - kl) < 1e-4 * kl + 1e-7);
        assert_int_equal(v->pos.v[i].same_top1, metric_argmax(lp, V) == metric_argmax(lq, V));
    }
    /* the class of the true next token: "▁a" and "▁time" are English words, not control keywords
     * or structure, unless the English control list holds them */
    assert_true(v->pos_class[0] != TF_ALL && v->pos_class[1] != TF_ALL); /* the text aligned */
    free(lp), free(lq), free(zp), free(zq);
    done(&kw, &c, &r);
    remove(file);
    rmdir(dir);
}

static void f16_drifts_little_q4_much(void **state) {
    (void)state;
    char f32[4096], f16[4096], q4[4096];
    snprintf(f32, sizeof f32, "%s", NEED_FIXTURE(STORIES "stories260K-F32.gguf"));
    snprintf(f16, sizeof f16, "%s", NEED_FIXTURE(STORIES "stories260K-F16.gguf"));
    snprintf(q4, sizeof q4, "%s", NEED_FIXTURE(STORIES "stories260K-Q4_0mix.gguf"));
    const char *models[] = {f32, f16, q4};
    KwSet kw;
    Corpus c;
    TfRun r;
    run(models, 3, "data/samples/english", NULL, 64, 2048, 0, &kw, &c, &r);
    assert_int_equal(r.windows, 2048 / 64);
    TfSample s = {0};
    TfSummary a, b;
    tfrun_select(&r, 1, r.nlangs, TF_ALL, &s);
    tf_summarize(&s, &a);
    tfrun_select(&r, 2, r.nlangs, TF_ALL, &s);
    tf_summarize(&s, &b);
    printf("# F16: KL %.3g, same top-1 %.4f; Q4_0mix: KL %.3g, same top-1 %.4f\n", a.kl_mean, a.same_top1,
           b.kl_mean, b.same_top1);
    assert_int_equal(a.n, 32 * 31);
    assert_true(a.kl_mean < 1e-5);
    assert_true(b.kl_mean > 1000 * a.kl_mean);
    assert_true(a.same_top1 > 0.99 && b.same_top1 < a.same_top1);
    assert_true(fabs(a.pearson_ll - 1) < 1e-6);
    /* the classes partition the positions */
    size_t sum = 0;
    for (int k = 0; k < MARK_COUNT; k++) {
        tfrun_select(&r, 2, r.nlangs, k, &s);
        sum += s.n;
    }
    assert_int_equal(sum, b.n);
    tf_sample_free(&s);
    done(&kw, &c, &r);
}

static void bytes_mode_spreads_the_same_likelihood(void **state) {
    (void)state;
    char f32[4096], f16[4096];
    snprintf(f32, sizeof f32, "%s", NEED_FIXTURE(STORIES "stories260K-F32.gguf"));
    snprintf(f16, sizeof f16, "%s", NEED_FIXTURE(STORIES "stories260K-F16.gguf"));
    const char *models[] = {f32, f16};
    KwSet kw;
    Corpus c;
    TfRun pos, byt;
    run(models, 2, "data/samples/english/pts.4.txt", NULL, 64, 1024, 0, &kw, &c, &pos);
    double nll = 0;
    for (size_t i = 0; i < pos.models[1].pos.n; i++) nll -= pos.models[1].pos.v[i].lp_base;
    done(&kw, &c, &pos);
    run(models, 2, "data/samples/english/pts.4.txt", NULL, 64, 1024, 1, &kw, &c, &byt);
    assert_int_equal(byt.models[1].same_vocab, 0);
    const TfBytes *b = tfrun_bytes(&byt, 1, byt.nlangs, TF_ALL);
    printf("# nll %.6f over positions, %.6f over %zu bytes; bpb base %.5f variant %.5f\n", nll, b->nll_base,
           b->bytes, tf_bits_per_byte(b->nll_base, b->bytes), tf_bits_per_byte(b->nll_var, b->bytes));
    assert_true(b->bytes > 0);
    assert_true(fabs(b->nll_base - nll) < 1e-5 * nll);
    assert_true(fabs(b->nll_var - b->nll_base) < 1e-3 * b->nll_base);
    /* the classes partition the bytes */
    size_t sum = 0;
    for (int k = 0; k < MARK_COUNT; k++) sum += tfrun_bytes(&byt, 1, byt.nlangs, k)->bytes;
    assert_int_equal(sum, b->bytes);
    done(&kw, &c, &byt);
}

static void bad_files_are_counted(void **state) {
    (void)state;
    char f32[4096], f16[4096];
    snprintf(f32, sizeof f32, "%s", NEED_FIXTURE(STORIES "stories260K-F32.gguf"));
    snprintf(f16, sizeof f16, "%s", NEED_FIXTURE(STORIES "stories260K-F16.gguf"));
    char dir[] = "/tmp/coldtok-drift-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[256];
    snprintf(p, sizeof p, "%s/a.txt", dir), write_file(p, "", 0);
    snprintf(p, sizeof p, "%s/b.txt", dir), write_file(p, "caf\xe9 au lait", 12); /* Latin-1 */
    snprintf(p, sizeof p, "%s/c.txt", dir), write_file(p, "Once", 4);
    snprintf(p, sizeof p, "%s/d.txt", dir), write_file(p, "Once upon a time there was a cat.", 33);
    snprintf(p, sizeof p, "%s/e.bin", dir), write_file(p, "x", 1);
    const char *models[] = {f32, f16};
    KwSet kw;
    Corpus c;
    TfRun r;
    run(models, 2, dir, NULL, 8, 0, 0, &kw, &c, &r);
    assert_int_equal(r.files, 4);
    assert_int_equal(r.unknown, 1);
    assert_int_equal(r.empty, 1);
    assert_int_equal(r.not_utf8, 1);
    assert_int_equal(r.too_short, 1);
    assert_int_equal(r.scored, 1);
    assert_true(r.windows >= 1);
    done(&kw, &c, &r);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prompt_window_matches_reference_logits),
        cmocka_unit_test(f16_drifts_little_q4_much),
        cmocka_unit_test(bytes_mode_spreads_the_same_likelihood),
        cmocka_unit_test(bad_files_are_counted),
    };
    return cmocka_run_group_tests_name("drift", tests, NULL, NULL);
}
