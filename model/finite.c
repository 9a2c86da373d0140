/* finite: see finite.h. */
#include "model/finite.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>

/* The largest |x[i]| bit pattern of x[0..n8) (n8 a multiple of 8): unsigned max of the bits. */
__attribute__((target("avx2"))) static uint32_t max_abs_bits_avx2(const float *x, size_t n8) {
    __m256i top = _mm256_setzero_si256(), abs_mask = _mm256_set1_epi32(0x7fffffff);
    for (size_t k = 0; k < n8; k += 8)
        top = _mm256_max_epu32(top, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(x + k)), abs_mask));
    uint32_t lanes[8], m = 0;
    _mm256_storeu_si256((__m256i *)lanes, top);
    for (int l = 0; l < 8; l++) m = lanes[l] > m ? lanes[l] : m;
    return m;
}
#endif

#include "formats/convert.h"
#include "formats/hfquant.h"
#include "formats/qtype.h"

size_t first_nonfinite(const float *x, size_t n) {
    /* one branch-free pass, on the bits (an exponent of all ones is NaN or Inf) so that it
     * vectorizes: as fast as reading the memory; the position is looked for only when something
     * is bad */
    uint32_t top = 0;
    size_t k = 0;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) {
        k = n / 8 * 8;
        top = max_abs_bits_avx2(x, k);
    }
#endif
    for (size_t i = k; i < n; i++) {
        uint32_t u;
        memcpy(&u, x + i, 4);
        u &= 0x7fffffffu;
        top = u > top ? u : top;
    }
    if (top < 0x7f800000u) return n;
    size_t i = 0;
    while (isfinite(x[i])) i++;
    return i;
}

static const char *what(float v) { return isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"; }

typedef struct {
    const Model *m;
    Convert cv;
    float *row;
    int64_t row_cap;
    const char *name; /* the first bad tensor, or NULL */
    char vname[64];
    int64_t bad_row; /* -1 for a vector */
    size_t bad_col;
    float bad_value;
} Scan;

/* Records the first bad value of x[0..n) as row `row` of `name`; 1 when one was found. */
static int check_values(Scan *s, const char *name, int64_t row, const float *x, size_t n) {
    size_t i = first_nonfinite(x, n);
    if (i == n) return 0;
    s->name = name;
    s->bad_row = row;
    s->bad_col = i;
    s->bad_value = x[i];
    return 1;
}

static int check_matrix(Scan *s, const Tensor *W) {
    if (!W->data || W->rows < 1 || W->cols < 1) return 0;
    if (W->cols > s->row_cap) {
        s->row = xrealloc(s->row, (size_t)W->cols * sizeof *s->row);
        s->row_cap = W->cols;
    }
    size_t rb = W->hq.method == HQ_NONE ? qtype_row_bytes(W->type, W->cols) : 0;
    for (int64_t r = 0; r < W->rows; r++) {
        if (W->hq.method != HQ_NONE) hq_rows_f32(&W->hq, r, 1, s->row);
        else convert_rows_f32(&s->cv, W->type, (const uint8_t *)W->data + (size_t)r * rb, 1, W->cols, s->row);
        if (check_values(s, W->name ? W->name : "(unnamed)", r, s->row, (size_t)W->cols)) return 1;
    }
    return 0;
}

/* A vector of the model (norm weights, biases) has no name of its own in Model: it is named the
 * GGUF way, "blk.L.attn_norm". */
static int check_vector(Scan *s, int layer, const char *what, const float *v, int n) {
    if (!v || n < 1) return 0;
    if (layer >= 0) snprintf(s->vname, sizeof s->vname, "blk.%d.%s", layer, what);
    else snprintf(s->vname, sizeof s->vname, "%s", what);
    return check_values(s, s->vname, -1, v, (size_t)n);
}

static int check_moe(Scan *s, const MoeLayer *e) {
    if (check_matrix(s, &e->router)) return 1;
    for (int x = 0; x < s->m->cfg.moe.n_expert; x++)
        if (check_matrix(s, &e->gate[x]) || check_matrix(s, &e->up[x]) || check_matrix(s, &e->down[x])) return 1;
    return check_matrix(s, &e->sh_gate_inp) || check_matrix(s, &e->sh_gate) || check_matrix(s, &e->sh_up) ||
           check_matrix(s, &e->sh_down);
}

static int check_layer(Scan *s, int l) {
    const Config *c = &s->m->cfg;
    const Layer *L = &s->m->layers[l];
    int E = c->n_embd, qd = c->n_head * c->head_dim, kd = c->n_head_kv * c->head_dim;
    int vd = c->n_head_kv * c->head_dim_v;
    return check_vector(s, l, "attn_norm", L->attn_norm, E) || check_vector(s, l, "attn_norm.bias", L->attn_norm_b, E) ||
           check_matrix(s, &L->wq) || check_matrix(s, &L->wk) || check_matrix(s, &L->wv) ||
           check_vector(s, l, "attn_q.bias", L->bq, qd) || check_vector(s, l, "attn_k.bias", L->bk, kd) ||
           check_vector(s, l, "attn_v.bias", L->bv, vd) || check_vector(s, l, "attn_q_norm", L->q_norm, c->head_dim) ||
           check_vector(s, l, "attn_k_norm", L->k_norm, c->head_dim) || check_matrix(s, &L->wq_a) ||
           check_vector(s, l, "attn_q_a_norm", L->q_a_norm, c->q_lora_rank) || check_matrix(s, &L->wq_b) ||
           check_matrix(s, &L->wkv_a) || check_vector(s, l, "attn_kv_a_norm", L->kv_a_norm, c->kv_lora_rank) ||
           check_matrix(s, &L->wkv_b) || check_matrix(s, &L->wk_b) || check_matrix(s, &L->wv_b) ||
           check_matrix(s, &L->wo) || check_vector(s, l, "attn_output.bias", L->bo, E) ||
           check_vector(s, l, "post_attention_norm", L->attn_post_norm, E) ||
           check_vector(s, l, "ffn_norm", L->ffn_norm, E) || check_vector(s, l, "ffn_norm.bias", L->ffn_norm_b, E) ||
           check_matrix(s, &L->w_gate) || check_matrix(s, &L->w_up) || check_matrix(s, &L->w_down) ||
           check_vector(s, l, "ffn_gate.bias", L->b_gate, c->n_ff) || check_vector(s, l, "ffn_up.bias", L->b_up, c->n_ff) ||
           check_vector(s, l, "ffn_down.bias", L->b_down, E) ||
           check_vector(s, l, "post_ffw_norm", L->ffn_post_norm, E) || (L->moe && check_moe(s, L->moe));
}

int model_nonfinite_error(const Model *m, int pos, int id, float value, Err *err) {
    Scan s = {.m = m};
    convert_init(&s.cv);
    int found = check_matrix(&s, &m->tok_embd);
    for (int l = 0; !found && l < m->cfg.n_layer; l++) found = check_layer(&s, l);
    if (!found) found = check_vector(&s, -1, "output_norm", m->output_norm, m->cfg.n_embd) ||
                        check_vector(&s, -1, "output_norm.bias", m->output_norm_b, m->cfg.n_embd) ||
                        check_matrix(&s, &m->output);
    free(s.row);
    if (found && s.bad_row < 0)
        return err_set(err, "%s: tensor %s element %zu is not finite (%s); the logits at position %d are not finite",
                       m->path, s.name, s.bad_col, what(s.bad_value), pos);
    if (found)
        return err_set(err, "%s: tensor %s row %lld column %zu is not finite (%s); the logits at position %d are not finite",
                       m->path, s.name, (long long)s.bad_row, s.bad_col, what(s.bad_value), pos);
    return err_set(err, "%s: the logits at position %d are not finite (%s at token id %d); every weight is finite",
                   m->path, pos, what(value), id);
}
