/* tok_json_read: see tok_json_read.h. */
#include "tokenizer/tok_json_read.h"

#include <stdlib.h>
#include <string.h>

const char *tokjson_str(const json_t *obj, const char *key, size_t *len) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) return NULL;
    if (len) *len = json_string_length(v);
    return json_string_value(v);
}

int tokjson_bool(const json_t *obj, const char *key, int def) {
    json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

int tokjson_open(TokJson *tj, const char *path, Err *err) {
    memset(tj, 0, sizeof *tj);
    tj->path = path;
    tj->text = read_file(path, &tj->len, err);
    if (!tj->text) return -1;
    json_error_t je;
    tj->root = json_loadb(tj->text, tj->len, JSON_ALLOW_NUL, &je);
    if (!tj->root) {
        err_set(err, "%s: invalid JSON at line %d column %d: %s", path, je.line, je.column,
                je.text);
        tokjson_close(tj);
        return -1;
    }
    if (!json_is_object(tj->root)) {
        err_set(err, "%s: not a tokenizer.json (the top level is not an object)", path);
        tokjson_close(tj);
        return -1;
    }
    json_t *model = json_object_get(tj->root, "model");
    if (!json_is_object(model)) return 0;
    tj->model = model;
    tj->type = tokjson_str(model, "type", NULL);
    if (!tj->type && json_is_array(json_object_get(model, "merges"))) tj->type = "BPE";
    tj->byte_fallback = tokjson_bool(model, "byte_fallback", 0);
    tj->ignore_merges = tokjson_bool(model, "ignore_merges", 0);
    tj->fuse_unk = tokjson_bool(model, "fuse_unk", 0);
    tj->unk = tokjson_str(model, "unk_token", &tj->unk_len);
    return 0;
}

void tokjson_close(TokJson *tj) {
    free(tj->vocab);
    free(tj->added);
    free(tj->merges);
    json_decref(tj->root);
    free(tj->text);
    memset(tj, 0, sizeof *tj);
}

/* ---- a BPE model ---- */

/* Splits a merge entry into its two pieces: "a b" (exactly one space) or ["a", "b"]. */
static int merge_parts(const json_t *m, TjMerge *out) {
    if (json_is_string(m)) {
        const char *s = json_string_value(m);
        size_t n = json_string_length(m);
        const char *sp = memchr(s, ' ', n);
        if (!sp || memchr(sp + 1, ' ', n - (size_t)(sp + 1 - s))) return -1;
        out->a = s, out->al = (size_t)(sp - s), out->b = sp + 1, out->bl = n - out->al - 1;
        return 0;
    }
    if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
        json_is_string(json_array_get(m, 1))) {
        out->a = json_string_value(json_array_get(m, 0));
        out->al = json_string_length(json_array_get(m, 0));
        out->b = json_string_value(json_array_get(m, 1));
        out->bl = json_string_length(json_array_get(m, 1));
        return 0;
    }
    return -1;
}

/* model.KEY: a string, or absent/null (*out stays NULL). */
static int opt_string(const TokJson *tj, const char *key, const char **out, size_t *out_len,
                      Err *err) {
    json_t *v = json_object_get(tj->model, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return err_set(err, "%s: model.%s is not a string", tj->path, key);
    *out_len = json_string_length(v);
    *out = json_string_value(v);
    return 0;
}

int tokjson_read_bpe(TokJson *tj, Err *err) {
    char sh[256];
    const char *path = tj->path;
    json_t *vocab = json_object_get(tj->model, "vocab");
    json_t *merges = json_object_get(tj->model, "merges");
    if (!json_is_object(vocab)) return err_set(err, "%s: BPE model without a vocab object", path);
    if (!json_is_array(merges)) return err_set(err, "%s: BPE model without a merges list", path);

    /* the vocabulary and the added tokens, and the id range they span */
    json_t *added = json_object_get(tj->root, "added_tokens");
    if (added && !json_is_null(added) && !json_is_array(added))
        return err_set(err, "%s: added_tokens is not a list", path);
    size_t n_entries = json_object_size(vocab) + json_array_size(added);
    long long max_id = -1;
    tj->vocab = xmalloc((json_object_size(vocab) + 1) * sizeof *tj->vocab);
    const char *key;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(vocab, key, klen, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return err_set(err, "%s: vocab entry \"%s\" has no valid id", path,
                           tok_shown(key, klen, sh, sizeof sh));
        if (json_integer_value(v) > max_id) max_id = json_integer_value(v);
        tj->vocab[tj->n_vocab++] = (TjPiece){key, klen, (int)json_integer_value(v)};
    }
    tj->added = xcalloc(json_array_size(added) + 1, sizeof *tj->added);
    size_t i;
    json_array_foreach(added, i, v) {
        json_t *id = json_object_get(v, "id");
        TjAdded *a = &tj->added[i];
        a->content = tokjson_str(v, "content", &a->len);
        if (!json_is_integer(id) || json_integer_value(id) < 0 || !a->content)
            return err_set(err, "%s: added_tokens[%zu] needs an id and a content", path, i);
        if (json_integer_value(id) > max_id) max_id = json_integer_value(id);
        a->id = (int)json_integer_value(id);
        a->special = tokjson_bool(v, "special", 0);
        a->single_word = tokjson_bool(v, "single_word", 0);
        a->lstrip = tokjson_bool(v, "lstrip", 0);
        a->rstrip = tokjson_bool(v, "rstrip", 0);
        a->normalized = tokjson_bool(v, "normalized", !a->special);
        tj->n_added++;
    }
    if (max_id < 0) return err_set(err, "%s: empty vocabulary", path);
    if (max_id >= TOK_MAX_VOCAB || (size_t)max_id > 2 * n_entries + 65536)
        return err_set(err, "%s: token id %lld out of range for %zu vocabulary entries", path,
                       max_id, n_entries);
    tj->n_ids = (int)max_id + 1;

    if (opt_string(tj, "continuing_subword_prefix", &tj->cont_prefix, &tj->cont_prefix_len, err) ||
        opt_string(tj, "end_of_word_suffix", &tj->eow_suffix, &tj->eow_suffix_len, err))
        return -1;

    tj->merges = xmalloc((json_array_size(merges) + 1) * sizeof *tj->merges);
    json_array_foreach(merges, i, v) {
        if (json_is_string(v) && json_string_length(v) >= 8 &&
            !memcmp(json_string_value(v), "#version", 8))
            continue; /* tokenizers skips a merges.txt header line */
        TjMerge *m = &tj->merges[tj->n_merges];
        if (merge_parts(v, m))
            return err_set(err, "%s: merges[%zu] is not \"a b\" or [\"a\", \"b\"]", path, i);
        m->index = i;
        tj->n_merges++;
    }
    return 0;
}

int tokjson_vocab_id(const TokJson *tj, const char *piece, size_t len) {
    json_t *v = json_object_getn(json_object_get(tj->model, "vocab"), piece, len);
    return json_is_integer(v) ? (int)json_integer_value(v) : -1;
}

/* ---- normalizer, pre-tokenizer, decoder ---- */

static const struct {
    const char *key, *list, *what, *whats;
} LISTS[] = {
    [TJ_NORMALIZER] = {"normalizer", "normalizers", "normalizer", "normalizers"},
    [TJ_PRE_TOKENIZER] = {"pre_tokenizer", "pretokenizers", "pre-tokenizer", "pre-tokenizers"},
    [TJ_DECODER] = {"decoder", "decoders", "decoder", "decoders"},
};

static int flatten(const TokJson *tj, enum TjList which, const json_t *n, int depth,
                   TjSteps *out, Err *err) {
    if (!n || json_is_null(n)) return 0;
    const char *type = tokjson_str(n, "type", NULL);
    if (!json_is_object(n) || !type)
        return err_set(err, "%s: a %s without a type", tj->path, LISTS[which].what);
    if (depth > 32) return err_set(err, "%s: %s nested too deeply", tj->path, LISTS[which].whats);
    if (!strcmp(type, "Sequence")) {
        json_t *arr = json_object_get(n, LISTS[which].list);
        if (!json_is_array(arr))
            return err_set(err, "%s: %s Sequence without a list", tj->path, LISTS[which].what);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) if (flatten(tj, which, v, depth + 1, out, err)) return -1;
        return 0;
    }
    out->v = xrealloc(out->v, (size_t)(out->n + 1) * sizeof *out->v);
    out->v[out->n++] = (TjStep){n, type};
    return 0;
}

int tokjson_steps(const TokJson *tj, enum TjList which, TjSteps *out, Err *err) {
    memset(out, 0, sizeof *out);
    json_t *top = json_object_get(tj->root, LISTS[which].key);
    out->present = top && !json_is_null(top);
    if (!flatten(tj, which, top, 0, out, err)) return 0;
    free(out->v);
    memset(out, 0, sizeof *out);
    return -1;
}
