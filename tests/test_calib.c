/* Tests of quant/gptq (against hand-computable formulas) and quant/calib with quant/qmodel's
 * calibrated methods on the synth-llama fixture: imatrix lowers the importance-weighted error and
 * gptq the output error tr(D H D^T) below rtn's, measured with the activations of the calibration
 * text and of a held-out text (tests/data/calib/). */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "model/forward.h"
#include "quant/calib.h"
#include "quant/gptq.h"
#include "quant/qmodel.h"
#include "formats/qtype.h"
#include "quant/recipe.h"
#include "tests/testutil.h"

#define SYNTH_F32 "models/synth-llama/synth-llama-F32.gguf"
#define CALIB_TEXT "tests/data/calib/calib-code.c"
#define HELDOUT_TEXT "tests/data/calib/heldout-code.c"

/* ---- GPTQ by hand: 2 x 4 weights, blocks of 2, a quantizer that rounds to integers ---- */

typedef struct {
    float seen[2][4]; /* the weights each block was quantized from */
    float q[2][4];
} Rec;

static int round_block(void *ctx, int64_t row, int64_t block, const float *w, const float *imp, float *q, int n) {
    Rec *r = ctx;
    (void)imp;
    for (int j = 0; j < n; j++) {
        r->seen[row][block * n + j] = w[j];
        q[j] = r->q[row][block * n + j] = roundf(w[j]);
    }
    return 0;
}

static void gptq_by_hand(void **state) {
    (void)state;
    const float H[16] = {2, 1, 0.5f, 0, 1, 2, 1, 0.5f, 0.5f, 1, 2, 1, 0, 0.5f, 1, 2};
    float W[2][4] = {{0.4f, 1.3f, 0.45f, -0.7f}, {-1.4f, 0.2f, 2.6f, 0.45f}};
    Gptq g;
    Err err;
    assert_int_equal(gptq_prepare(&g, H, 4, &err), 0);
    Rec rec;
    float w[8];
    memcpy(w, W, sizeof w);
    assert_int_equal(gptq_rows(&g, w, 2, 2, round_block, &rec), 0);
    /* The direct formula: with block B = {0,1} fixed at q_B, the columns F = {2,3} that minimize
     * D H' D^T (H' = H + lambda I, lambda = 0.01 * mean diag H = 0.02) move by
     * D_F = -D_B H'_BF H'_FF^-1, D_B = q_B - w_B. */
    const double l = 0.01 * 2.0, a = 2 + l, b = 1, d = 2 + l; /* H'_FF = [[a b][b d]] */
    const double det = a * d - b * b, inv[2][2] = {{d / det, -b / det}, {-b / det, a / det}};
    const double HBF[2][2] = {{0.5, 0}, {1, 0.5}};
    for (int r = 0; r < 2; r++) {
        double DB[2], t[2], wf[2];
        for (int j = 0; j < 2; j++) {
            assert_float_equal(rec.seen[r][j], W[r][j], 0); /* the first block is quantized as it is */
            DB[j] = round(W[r][j]) - W[r][j];
        }
        for (int k = 0; k < 2; k++) t[k] = DB[0] * HBF[0][k] + DB[1] * HBF[1][k];
        for (int k = 0; k < 2; k++) wf[k] = W[r][2 + k] - (t[0] * inv[0][k] + t[1] * inv[1][k]);
        for (int k = 0; k < 2; k++) {
            printf("# row %d col %d: w %.4f -> compensated %.6f (formula %.6f) -> q %.0f\n", r, 2 + k,
                   W[r][2 + k], rec.seen[r][2 + k], wf[k], rec.q[r][2 + k]);
            assert_float_equal(rec.seen[r][2 + k], wf[k], 1e-5);
            assert_float_equal(rec.q[r][2 + k], round(wf[k]), 0);
        }
    }
    /* the compensation changed a rounding: row 0 col 2 (0.45 -> 0) becomes 1 */
    assert_float_equal(rec.q[0][2], 1, 0);
    assert_float_equal(roundf(W[0][2]), 0, 0);
    gptq_free(&g);
}

/* U is the upper Cholesky factor of (H + lambda I)^-1: (H + lambda I) U^T U = I, U upper. */
static void gptq_factor(void **state) {
    (void)state;
    enum { K = 12, N = 40 };
    float H[K * K] = {0};
    uint32_t s = 12345;
    for (int n = 0; n < N; n++) { /* H = X^T X / N of pseudo-random correlated rows */
        float x[K];
        for (int j = 0; j < K; j++) {
            s = s * 1664525u + 1013904223u;
            x[j] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f + (j ? 0.7f * x[j - 1] : 0);
        }
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++) H[i * K + j] += x[i] * x[j] / N;
    }
    Gptq g;
    Err err;
    assert_int_equal(gptq_prepare(&g, H, K, &err), 0);
    double mean = 0;
    for (int j = 0; j < K; j++) mean += H[j * K + j] / K;
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            if (j < i) assert_true(g.U[i * K + j] == 0);
            double p = 0; /* ((H + l I) U^T U)[i][j] */
            for (int k = 0; k < K; k++) {
                double utu = 0;
                for (int m = 0; m < K; m++) utu += g.U[m * K + k] * g.U[m * K + j];
                p += ((double)H[i * K + k] + (i == k ? 0.01 * mean : 0)) * utu;
            }
            assert_float_equal(p, i == j, 1e-6);
        }
    gptq_free(&g);
    /* a broken Hessian is refused with a message */
    H[1] = NAN;
    assert_int_equal(gptq_prepare(&g, H, K, &err), -1);
    assert_non_null(strstr(err.msg, "not finite"));
    const float bad[4] = {1, 10, 10, 1}; /* not positive definite, even damped */
    assert_int_equal(gptq_prepare(&g, bad, 2, &err), -1);
    assert_non_null(strstr(err.msg, "not positive definite"));
    /* an input that is always 0 (diag 0): its weights become 0, the rest is factored */
    const float dead[4] = {0, 0, 0, 2};
    assert_int_equal(gptq_prepare(&g, dead, 2, &err), 0);
    assert_int_equal(g.dead[0], 1);
    assert_int_equal(g.dead[1], 0);
    gptq_free(&g);
}

/* ---- calibration: end to end on synth-llama ---- */

static const float *imp_cb(void *ctx, const QmTensor *t) {
    const float *imp;
    Err err;
    return calib_importance(ctx, t->name, t->ne[0], &imp, &err) ? NULL : imp;
}
static int hess_cb(void *ctx, const QmTensor *t, const float **H, Err *err) {
    return calib_hessian(ctx, t->name, t->ne[0], H, err);
}

static Calib *open_calib(const char *text, const char *model) {
    Err err;
    const char *paths[1] = {text};
    Calib *c = calib_new(paths, 1, 1024, &err);
    assert_non_null(c);
    if (calib_load(c, model, &err)) fail_msg("%s", err.msg);
    assert_int_equal(calib_tokens(c), 1024);
    return c;
}

/* The matrices of a model by llama.cpp name (the observed ones). */
static const Tensor *matrix(const Model *m, const char *name) {
    if (!strcmp(name, "output.weight")) return &m->output;
    int l;
    char w[32];
    if (sscanf(name, "blk.%d.%31[^.]", &l, w) != 2) return NULL;
    const Layer *L = &m->layers[l];
    return !strcmp(w, "attn_q") ? &L->wq : !strcmp(w, "attn_k") ? &L->wk : !strcmp(w, "attn_v") ? &L->wv
         : !strcmp(w, "attn_output") ? &L->wo : !strcmp(w, "ffn_gate") ? &L->w_gate
         : !strcmp(w, "ffn_up") ? &L->w_up : !strcmp(w, "ffn_down") ? &L->w_down : NULL;
}

/* Summed over the observed matrices, with the statistics of c: sum_j imp_j d_j^2 and d^T H d. */
static void errors(const Model *src, const Model *q, Calib *c, double *ed, double *eh) {
    static const char *const kinds[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
    *ed = *eh = 0;
    Err err;
    for (int l = 0; l <= src->cfg.n_layer; l++)
        for (int k = 0; k < 7; k++) {
            char name[64];
            if (l == src->cfg.n_layer && k) break;
            if (l == src->cfg.n_layer) snprintf(name, sizeof name, "output.weight");
            else snprintf(name, sizeof name, "blk.%d.%s.weight", l, kinds[k]);
            const Tensor *a = matrix(src, name), *b = matrix(q, name);
            const int64_t K = a->cols;
            const float *imp, *H;
            assert_int_equal(calib_importance(c, name, K, &imp, &err), 0);
            assert_int_equal(calib_hessian(c, name, K, &H, &err), 0);
            assert_non_null(imp);
            assert_non_null(H);
            float *x = xmalloc((size_t)K * sizeof(float)), *y = xmalloc((size_t)K * sizeof(float));
            double *d = xmalloc((size_t)K * sizeof(double));
            for (int64_t r = 0; r < a->rows; r++) {
                fwd_dequant_rows(a, r, 1, x);
                fwd_dequant_rows(b, r, 1, y);
                for (int64_t j = 0; j < K; j++) d[j] = (double)y[j] - x[j], *ed += imp[j] * d[j] * d[j];
                for (int64_t i = 0; i < K; i++) {
                    double s = 0;
                    for (int64_t j = 0; j < K; j++) s += H[i * K + j] * d[j];
                    *eh += d[i] * s;
                }
            }
            free(x), free(y), free(d);
        }
}

static void calibrated_methods_beat_rtn(void **state) {
    (void)state;
    const char *src = NEED_FIXTURE(SYNTH_F32);
    char dir[] = "/tmp/coldtok-test-calib.XXXXXX";
    assert_non_null(mkdtemp(dir));
    Err err;
    Model *m = model_load(src, &err);
    assert_non_null(m);
    Calib *cal = open_calib(CALIB_TEXT, src), *held = open_calib(HELDOUT_TEXT, src);
    static const char *const types[] = {"Q4_0", "Q3_K", "Q4_K"};
    static const char *const methods[] = {"rtn", "imatrix", "gptq"};
    for (int t = 0; t < 3; t++) {
        double ed[3][2], eh[3][2]; /* [method][calibration, held-out] */
        for (int k = 0; k < 3; k++) {
            Recipe r;
            assert_int_equal(recipe_init(&r, types[t], 0, &err), 0);
            QModel *q = qm_open(src, &err);
            assert_non_null(q);
            assert_int_equal(qm_plan(q, &r, &err), 0);
            QmInfo info = {.method = methods[k], .calibration = "calib-code.c", .calibration_tokens = 1024};
            if (k) info.importance = imp_cb, info.ctx = cal;
            if (k == 2) info.hessian = hess_cb;
            char out[128];
            snprintf(out, sizeof out, "%s/%s-%s.gguf", dir, types[t], methods[k]);
            if (qm_write(q, out, &info, &r, &err)) fail_msg("%s", err.msg);
            qm_close(q);
            recipe_free(&r);
            Model *qmod = model_load(out, &err);
            assert_non_null(qmod);
            errors(m, qmod, cal, &ed[k][0], &eh[k][0]);
            errors(m, qmod, held, &ed[k][1], &eh[k][1]);
            model_free(qmod);
            unlink(out);
        }
        for (int h = 0; h < 2; h++) {
            printf("# %s %-11s imp-weighted error rtn %.6g imatrix %.6g (%.3f) gptq %.6g | output error "
                   "tr(DHD^T) rtn %.6g imatrix %.6g gptq %.6g (%.3f)\n",
                   types[t], h ? "held-out" : "calibration", ed[0][h], ed[1][h], ed[1][h] / ed[0][h], ed[2][h],
                   eh[0][h], eh[1][h], eh[2][h], eh[2][h] / eh[0][h]);
            assert_true(ed[1][h] < ed[0][h]); /* imatrix: below rtn on its own measure */
            assert_true(eh[2][h] < eh[0][h]); /* gptq: below rtn on the output error */
            if (t == 0) assert_true(eh[2][h] < 0.7 * eh[1][h]); /* Q4_0: far below imatrix too */
        }
    }
    calib_free(cal);
    calib_free(held);
    model_free(m);
    rmdir(dir);
}

static void calib_bad_inputs(void **state) {
    (void)state;
    Err err;
    const char *missing[1] = {"tests/data/calib/no-such-file.txt"};
    assert_null(calib_new(missing, 1, 100, &err));
    assert_string_equal(err.msg, "tests/data/calib/no-such-file.txt: cannot read calibration text: No such file or directory");
    const char *dir[1] = {"tests/data/calib"};
    Calib *c = calib_new(dir, 1, 100, &err);
    assert_non_null(c); /* a folder: its files in name order */
    assert_string_equal(calib_sources(c), "calib-code.c,heldout-code.c");
    calib_free(c);
}

/* Two --calib paths split the token budget: a short second text leaves its unused share empty
 * instead of letting the first text fill it. */
static void paths_share_the_budget(void **state) {
    (void)state;
    const char *model = NEED_FIXTURE(SYNTH_F32);
    char model_path[4096];
    snprintf(model_path, sizeof model_path, "%s", model);
    const char *shortf = "/tmp/coldtok-calib-short.c";
    FILE *f = fopen(shortf, "w");
    assert_non_null(f);
    fputs("int x;\n", f);
    fclose(f);
    Err err;
    const char *one[1] = {"tests/data/calib/calib-code.c"};
    const char *two[2] = {"tests/data/calib/calib-code.c", shortf};
    const char *rev[2] = {shortf, "tests/data/calib/calib-code.c"};
    int64_t got[3];
    const char *const *sets[3] = {one, two, rev};
    for (int i = 0; i < 3; i++) {
        Calib *c = calib_new(sets[i], i ? 2 : 1, 1024, &err);
        assert_non_null(c);
        if (calib_load(c, model_path, &err)) fail_msg("%s", err.msg);
        got[i] = calib_tokens(c);
        calib_free(c);
    }
    printf("# tokens: one path %lld, code + short %lld, short + code %lld\n", (long long)got[0],
           (long long)got[1], (long long)got[2]);
    assert_int_equal(got[0], 1024);
    assert_true(got[1] > 512 && got[1] < 530); /* 512 of code, the few tokens of "int x;" */
    assert_int_equal(got[2], got[1]);
    remove(shortf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths_share_the_budget),
        cmocka_unit_test(gptq_by_hand),
        cmocka_unit_test(gptq_factor),
        cmocka_unit_test(calib_bad_inputs),
        cmocka_unit_test(calibrated_methods_beat_rtn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
