/* Tests of analysis/coldstart and analysis/drift on a "bigram" model whose logits are set by hand.
 *
 * The model is a real llama GGUF (written here with gguf_write) with every attention and FFN weight
 * zero, so the residual stream stays the token embedding; embeddings are one-hot (token t → e_t,
 * n_embd >= n_vocab) and the output norm is 1, so the logits after token t are column t of the
 * output matrix times the RMSNorm gain g = 1/sqrt(1/n_embd + eps). Writing output[v][t] = z_t(v)/g
 * makes the next-token distribution after t exactly softmax(z_t): every figure below is computed
 * by hand from those few logits. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "analysis/coldstart.h"
#include "analysis/colddiff.h"
#include "analysis/keywords.h"
#include "model/forward.h"
#include "formats/gguf_write.h"
#include "model/model.h"
#include "formats/qtype.h"
#include "tests/testutil.h"
#include "tokenizer/tokenizer.h"

#define N_VOCAB 263 /* 256 bytes + de def Ġd Ġde Ġdef if + <|endoftext|> */
#define N_EMBD 264
#define N_FF 32
#define EPS 1e-5f
#define T_DE 256
#define T_DEF 257
#define T_SDEF 260
#define T_IF 261
#define T_EOT 262

/* GPT-2's byte-to-unicode table: printable Latin-1 bytes stand for themselves, the others are
 * shifted to U+0100 and up in byte order. */
static void byte_token(int b, char *out) {
    int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    uint32_t cp = (uint32_t)b;
    if (!printable) {
        int n = 0;
        for (int c = 0; c < b; c++)
            n += !((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF));
        cp = 256 + (uint32_t)n;
    }
    out[utf8_encode(cp, out)] = '\0';
}

/* Logits after each token: zero except the few set here. `boost_def` moves the variant. */
static float logit_after(int prev, int next, float boost_def) {
    if (prev == T_EOT) {
        if (next == T_DEF) return 3.0f + boost_def;
        if (next == T_SDEF) return 2.0f;
        if (next == T_IF) return 1.0f;
        if (next == 'f') return 2.0f;
    }
    if (prev == 'f' && next == 'o') return 4.0f;
    if (prev == 'o' && next == 'r') return 5.0f;
    return 0.0f;
}

static void write_bigram(const char *path, float boost_def) {
    Err err;
    GgufWriter *w = gw_new();
    gw_kv_str(w, "general.architecture", "llama");
    gw_kv_u32(w, "llama.context_length", 64);
    gw_kv_u32(w, "llama.embedding_length", N_EMBD);
    gw_kv_u32(w, "llama.block_count", 1);
    gw_kv_u32(w, "llama.feed_forward_length", N_FF);
    gw_kv_u32(w, "llama.attention.head_count", 1);
    gw_kv_u32(w, "llama.attention.head_count_kv", 1);
    gw_kv_f32(w, "llama.attention.layer_norm_rms_epsilon", EPS);
    char store[N_VOCAB][16]; /* the longest: "<|endoftext|>" */
    const char *tokens[N_VOCAB];
    int32_t types[N_VOCAB];
    for (int b = 0; b < 256; b++) byte_token(b, store[b]), types[b] = 1;
    const char *extra[] = {"de", "def", "\xC4\xA0" "d", "\xC4\xA0" "de", "\xC4\xA0" "def", "if", "<|endoftext|>"};
    for (int i = 0; i < 7; i++) strcpy(store[256 + i], extra[i]), types[256 + i] = i == 6 ? 3 : 1;
    for (int i = 0; i < N_VOCAB; i++) tokens[i] = store[i];
    const char *merges[] = {"d e", "de f", "\xC4\xA0 d", "\xC4\xA0" "d e", "\xC4\xA0" "de f", "i f"};
    gw_kv_str(w, "tokenizer.ggml.model", "gpt2");
    gw_kv_str(w, "tokenizer.ggml.pre", "gpt-2");
    gw_kv_arr_str(w, "tokenizer.ggml.tokens", tokens, N_VOCAB);
    gw_kv_arr_i32(w, "tokenizer.ggml.token_type", types, N_VOCAB);
    gw_kv_arr_str(w, "tokenizer.ggml.merges", merges, 6);
    gw_kv_u32(w, "tokenizer.ggml.bos_token_id", T_EOT);
    gw_kv_u32(w, "tokenizer.ggml.eos_token_id", T_EOT);

    struct { const char *name; int64_t cols, rows; } t[] = {
        {"token_embd.weight", N_EMBD, N_VOCAB},   {"blk.0.attn_norm.weight", N_EMBD, 1},
        {"blk.0.attn_q.weight", N_EMBD, N_EMBD},  {"blk.0.attn_k.weight", N_EMBD, N_EMBD},
        {"blk.0.attn_v.weight", N_EMBD, N_EMBD},  {"blk.0.attn_output.weight", N_EMBD, N_EMBD},
        {"blk.0.ffn_norm.weight", N_EMBD, 1},     {"blk.0.ffn_gate.weight", N_EMBD, N_FF},
        {"blk.0.ffn_up.weight", N_EMBD, N_FF},    {"blk.0.ffn_down.weight", N_FF, N_EMBD},
        {"output_norm.weight", N_EMBD, 1},        {"output.weight", N_EMBD, N_VOCAB},
    };
    size_t nt = sizeof t / sizeof t[0];
    for (size_t i = 0; i < nt; i++) {
        int64_t ne[2] = {t[i].cols, t[i].rows};
        assert_true(gw_add_tensor(w, t[i].name, Q_F32, t[i].rows > 1 ? 2 : 1, ne, &err) > 0);
    }
    assert_int_equal(gw_begin(w, path, &err), 0);
    double g = 1.0 / sqrt(1.0 / N_EMBD + (double)EPS); /* RMSNorm of a one-hot vector */
    for (size_t i = 0; i < nt; i++) {
        size_t n = (size_t)(t[i].cols * t[i].rows);
        float *d = xcalloc(n, sizeof *d);
        if (!strcmp(t[i].name, "token_embd.weight"))
            for (int v = 0; v < N_VOCAB; v++) d[(size_t)v * N_EMBD + (size_t)v] = 1.0f;
        else if (strstr(t[i].name, "norm"))
            for (size_t j = 0; j < n; j++) d[j] = 1.0f;
        else if (!strcmp(t[i].name, "output.weight"))
            for (int v = 0; v < N_VOCAB; v++)
                for (int prev = 0; prev < N_VOCAB; prev++)
                    d[(size_t)v * N_EMBD + (size_t)prev] = (float)(logit_after(prev, v, boost_def) / g);
        assert_int_equal(gw_data(w, d, n * sizeof *d, &err), 0);
        free(d);
    }
    assert_int_equal(gw_end(w, &err), 0);
    gw_free(w);
}

/* Softmax normalizer after `prev`, in double, straight from the definition of the logits. */
static double partition(int prev, float boost_def) {
    double z = 0;
    for (int v = 0; v < N_VOCAB; v++) z += exp((double)logit_after(prev, v, boost_def));
    return z;
}

typedef struct {
    char path[64];
    Tokenizer *tok;
    Model *m;
    Forward *f;
} Bigram;

static void open_bigram(Bigram *b, float boost_def) {
    Err err;
    strcpy(b->path, "/tmp/coldtok-bigram-XXXXXX");
    int fd = mkstemp(b->path);
    assert_true(fd >= 0);
    close(fd);
    write_bigram(b->path, boost_def);
    b->tok = tok_load(b->path, &err);
    if (!b->tok) fail_msg("%s", err.msg);
    b->m = model_load(b->path, &err);
    if (!b->m) fail_msg("%s", err.msg);
    b->f = fwd_new(b->m, COMPUTE_F32, &err);
    assert_non_null(b->f);
}

static void close_bigram(Bigram *b) {
    fwd_free(b->f);
    model_free(b->m);
    tok_free(b->tok);
    unlink(b->path);
}

static void load_keywords(KwSet *kw) {
    Err err;
    const char *py = "python\tdef\npython\tif\npython\tfor\n";
    const char *en = "english\tde\n";
    memset(kw, 0, sizeof *kw);
    assert_int_equal(kw_load_text(kw, "test.tsv", py, strlen(py), 0, &err), 0);
    assert_int_equal(kw_load_text(kw, "english.tsv", en, strlen(en), 1, &err), 0);
    assert_int_equal(kw_select(kw, NULL, &err), 0);
}

#define NEAR(a, b) assert_true(fabs((a) - (b)) <= 1e-6 * fabs(b) + 1e-12)

static void cold_start_figures_match_hand_values(void **state) {
    (void)state;
    Bigram b;
    open_bigram(&b, 0);
    KwSet kw;
    load_keywords(&kw);
    Err err;
    int ctx;
    assert_int_equal(coldstart_context(b.tok, "bos", &ctx, &err), 0);
    assert_int_equal(ctx, T_EOT);
    ColdStart cs;
    if (coldstart_run(b.f, b.m->cfg.n_vocab, b.tok, &kw, ctx, &cs, &err) != 0) fail_msg("%s", err.msg);

    double Z0 = partition(T_EOT, 0), Zf = partition('f', 0), Zo = partition('o', 0);
    assert_int_equal(cs.nlangs, 1);
    const LangProb *py = &cs.langs[0];
    const KwProb *def = &py->kw[0], *kif = &py->kw[1], *kfor = &py->kw[2];
    assert_int_equal(def->bare_id, T_DEF);
    assert_int_equal(def->space_id, T_SDEF);
    NEAR(def->p_bare, exp(3.0) / Z0);
    NEAR(def->p_space, exp(2.0) / Z0);
    NEAR(def->p_seq, exp(3.0) / Z0); /* "def" is one token */
    assert_int_equal(def->rank, 1);
    assert_int_equal(kif->bare_id, T_IF);
    assert_int_equal(kif->space_id, -1);
    assert_int_equal(kfor->bare_id, -1);
    assert_int_equal(kfor->n_seq, 3);
    /* p_seq("for") = P(f | bos) P(o | f) P(r | o): the chain rule through two more positions */
    NEAR(kfor->p_seq, exp(2.0) / Z0 * exp(4.0) / Zf * exp(5.0) / Zo);
    /* PKP: def, Ġdef, if (for has no single token); KAP = PKP / 3 */
    NEAR(py->pkp, (exp(3.0) + exp(2.0) + exp(1.0)) / Z0);
    NEAR(py->kap, py->pkp / 3);
    /* keyword masses e^3+e^2, e^1, 0 → 80% of the mass needs both def and if? (e^3+e^2)/(e^3+e^2+e) = 0.9… */
    double share = (exp(3.0) + exp(2.0)) / (exp(3.0) + exp(2.0) + exp(1.0));
    assert_true(share > 0.9 && share < 0.95);
    assert_int_equal(py->n_mass[0], 1);
    assert_int_equal(py->n_mass[2], 1);
    assert_int_equal(py->n_mass[3], 2);
    /* Structural tokens: the 32 ASCII punctuation/symbol bytes, space, \t \n \v \f \r, each e^0/Z0 */
    NEAR(cs.stp, 38.0 / Z0);
    /* Indentation: " " (one space) and "\t" (one tab), without newline */
    NEAR(cs.indent_mass, 2.0 / Z0);
    NEAR(cs.indent[0][0][1], 1.0 / Z0);
    NEAR(cs.indent[1][0][1], 1.0 / Z0);
    /* English control set {de}: "de" and "Ġde" are tokens with logit 0 */
    NEAR(cs.nlp, 2.0 / Z0);
    /* Entropy from the definition */
    double h = 0;
    for (int v = 0; v < N_VOCAB; v++) {
        double p = exp((double)logit_after(T_EOT, v, 0)) / Z0;
        h -= p * log(p);
    }
    NEAR(cs.entropy, h);
    coldstart_free(&cs);
    kw_free(&kw);
    close_bigram(&b);
}

static void drift_between_bigrams(void **state) {
    (void)state;
    Bigram a, v;
    open_bigram(&a, 0);
    open_bigram(&v, -1.0f); /* the variant gives "def" logit 2 instead of 3 */
    KwSet kw;
    load_keywords(&kw);
    Err err;
    ColdStart ca, cv;
    assert_int_equal(coldstart_run(a.f, N_VOCAB, a.tok, &kw, T_EOT, &ca, &err), 0);
    assert_int_equal(coldstart_run(v.f, N_VOCAB, v.tok, &kw, T_EOT, &cv, &err), 0);
    assert_true(tok_same_vocab(a.tok, v.tok));
    ColdDiff d;
    colddiff_compare(&ca, &ca, 1, &d);
    assert_true(fabs(d.kl_pq) < 1e-12 && fabs(d.js) < 1e-12 && d.top1_agree == 1);
    colddiff_compare(&ca, &cv, 1, &d);
    /* KL(P||Q) by the definition over the two hand-set distributions */
    double Zp = partition(T_EOT, 0), Zq = partition(T_EOT, -1.0f), kl = 0, tv = 0;
    for (int t = 0; t < N_VOCAB; t++) {
        double lp = logit_after(T_EOT, t, 0) - log(Zp), lq = logit_after(T_EOT, t, -1.0f) - log(Zq);
        kl += exp(lp) * (lp - lq);
        tv += fabs(exp(lp) - exp(lq)) / 2;
    }
    NEAR(d.kl_pq, kl);
    NEAR(d.tv, tv);
    /* top-1: P puts def (e^3) first; Q has def, Ġdef and f tied at e^2: the lowest id wins → 'f' */
    assert_true(d.top1_agree == 0);
    /* keyword log ratio of def: ln((e^2 + e^2)/Zq) - ln((e^3 + e^2)/Zp) */
    double lr = keyword_log_ratio(&ca.langs[0].kw[0], &cv.langs[0].kw[0], 1);
    NEAR(lr, log(2 * exp(2.0) / Zq) - log((exp(3.0) + exp(2.0)) / Zp));
    coldstart_free(&ca);
    coldstart_free(&cv);
    kw_free(&kw);
    close_bigram(&a);
    close_bigram(&v);
}

static void context_specs(void **state) {
    (void)state;
    Bigram b;
    open_bigram(&b, 0);
    Err err;
    int id;
    assert_int_equal(coldstart_context(b.tok, "17", &id, &err), 0);
    assert_int_equal(id, 17);
    assert_int_equal(coldstart_context(b.tok, "<|endoftext|>", &id, &err), 0);
    assert_int_equal(id, T_EOT);
    assert_int_equal(coldstart_context(b.tok, "none", &id, &err), -1);
    assert_int_equal(coldstart_context(b.tok, "9999", &id, &err), -1);
    assert_non_null(strstr(err.msg, "out of range"));
    assert_int_equal(coldstart_context(b.tok, "<nope>", &id, &err), -1);
    close_bigram(&b);
}

static void token_classes(void **state) {
    (void)state;
    TokClass c;
    classify_token("\n    ", 5, &c);
    assert_true(c.structural && c.indent_kind == 1 && c.indent_width == 4 && c.newline);
    classify_token("\t\t", 2, &c);
    assert_true(c.indent_kind == 2 && c.indent_width == 2 && !c.newline);
    classify_token("):", 2, &c);
    assert_true(c.structural && !c.indent_kind);
    classify_token("\xE2\x80\x94", 3, &c); /* EM DASH, Pd */
    assert_true(c.structural);
    classify_token(" def", 4, &c);
    assert_true(!c.structural && !c.indent_kind);
    classify_token("\n", 1, &c);
    assert_true(c.structural && !c.indent_kind);
    classify_token("\xC3", 1, &c); /* half a character: not text */
    assert_true(!c.structural);
    classify_token(" \t", 2, &c); /* mixed blanks are not one indentation kind */
    assert_true(c.structural && !c.indent_kind);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cold_start_figures_match_hand_values),
        cmocka_unit_test(drift_between_bigrams),
        cmocka_unit_test(context_specs),
        cmocka_unit_test(token_classes),
    };
    return cmocka_run_group_tests_name("coldstart", tests, NULL, NULL);
}
