/* llama_oracle: llama.cpp itself as a test oracle (docs/testing.md, "llama.cpp as an oracle").
 *
 * Our own code. It is compiled at test time (make oracle, then make tests) against the headers
 * of the llama.cpp source that the pinned npm package node-llama-cpp ships as a git bundle, and
 * linked with an rpath to the package's prebuilt libllama / libggml (ORACLE_LIBDIR). Nothing of
 * llama.cpp is kept in the repository.
 *
 *   llama_oracle [-t THREADS] COMMAND ARGS          (THREADS: default 1)
 *     logits MODEL.gguf ID,ID,... OUT.f32    one llama_decode of the ids (positions 0..n-1, F32 K/V
 *                                            caches, flash attention off); writes the logits of
 *                                            every position: [n][n_vocab] little-endian float32
 *     decode-time MODEL.gguf ID RUNS [N]     the time of one position: llama_decode of the one token ID
 *                                            at position 0 (F32 K/V caches), the cache cleared
 *                                            before each; one untimed run first, then RUNS timed:
 *                                            prints "MEDIAN_MS MIN_MS" (make bench's llama.cpp row);
 *                                            with N (1..4096), one llama_decode of the N tokens
 *                                            ID, ID+1, ... at positions 0..N-1 (a prefill; the
 *                                            logits of the last one, as llama_batch_get_one asks)
 *     tokenize MODEL.gguf TEXT               llama_tokenize(add_special=false, parse_special=false):
 *                                            the ids on one line, space-separated
 *     tokenize-file MODEL.gguf FILE [DETOK]  the same for each text of FILE (each text: its length
 *                                            in bytes in decimal, a newline, the bytes): one line
 *                                            of ids per text, in order, from one vocabulary load;
 *                                            DETOK gets llama_detokenize(remove_special=false,
 *                                            unparse_special=true) of each text's ids, in FILE's format
 *     tensor MODEL.gguf NAME OUT             the tensor's raw bytes as stored (read by ggml's gguf
 *                                            reader); prints its type (Q4_K)
 *     traits [TYPE]                          ggml's type traits, one line per type (every type
 *                                            ggml defines when TYPE is absent): number, name as
 *                                            GGUF tools print it (upper case), blck_size,
 *                                            type_size, 1/0 for whether it has a to_float
 *     dequant TYPE IN OUT.f32                ggml's to_float of the raw blocks in IN
 *     quant TYPE N_PER_ROW IN.f32 OUT [IMPORTANCE.f32]
 *                                            ggml_quantize_chunk of rows of N_PER_ROW floats, with
 *                                            one importance per column if given
 *     quantize [--pure] IN.gguf OUT.gguf FTYPE [IMATRIX_DIR]
 *                                            llama_model_quantize to FTYPE as llama-quantize spells
 *                                            it (Q8_0, Q4_K_M, IQ4_XS, ...); IMATRIX_DIR holds one
 *                                            file NAME.f32 per weight (e.g. blk.0.ffn_down.weight.f32):
 *                                            its importance per input column, float32;
 *                                            a quantized IN is dequantized by ggml first (so
 *                                            FTYPE F32 gives ggml's dequantized model)
 *
 * Exit status: 0 ok, 1 failure (one line on stderr, with llama.cpp's first error where it gave
 * one), 2 usage error. llama.cpp's own log is silenced.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ggml-backend.h"
#include "ggml.h"
#include "gguf.h"
#include "llama.h"

#ifndef ORACLE_LIBDIR
#error "build with -DORACLE_LIBDIR=\"the folder of libllama and the ggml CPU backends\""
#endif

/* llama.cpp's log, kept to its first error (the cause; later ones say "failed to load model")
 * so that a failure can say why in one line. */
typedef struct {
    char error[512];
} Log;

static void keep_errors(enum ggml_log_level level, const char *text, void *user_data) {
    Log *log = user_data;
    if (level != GGML_LOG_LEVEL_ERROR || !text[0] || log->error[0])
        return;
    /* One line: whitespace runs become one space, banner rules of '=' go. */
    size_t n = 0;
    for (const char *c = text; *c && n + 1 < sizeof log->error; c++) {
        if (*c == '=' && (c[1] == '=' || (c > text && c[-1] == '=')))
            continue;
        if (isspace((unsigned char)*c)) {
            if (n > 0 && log->error[n - 1] != ' ')
                log->error[n++] = ' ';
            continue;
        }
        log->error[n++] = *c;
    }
    while (n > 0 && log->error[n - 1] == ' ')
        n--;
    log->error[n] = '\0';
}

static int fail(const Log *log, const char *fmt, ...) {
    va_list ap;
    fputs("llama_oracle: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (log && log->error[0])
        fprintf(stderr, " (llama.cpp: %s)", log->error);
    fputc('\n', stderr);
    return 1;
}

/* Reads a whole file into a malloc'd buffer; NULL when it cannot. */
static void *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    off_t len = fseeko(f, 0, SEEK_END) == 0 ? ftello(f) : -1;
    if (len >= 0 && fseeko(f, 0, SEEK_SET) == 0 && (data = malloc(len ? (size_t)len : 1)) &&
        fread(data, 1, (size_t)len, f) != (size_t)len) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = data ? (size_t)len : 0;
    return data;
}

static int write_all(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t put = fwrite(data, 1, size, f);
    return (fclose(f) == 0 && put == size) ? 0 : -1;
}

/* A ggml type by the name ggml gives it, in any case (Q4_K, q4_K, IQ4_XS); -1 when there is none. */
static int type_by_name(const char *name) {
    for (int t = 0; t < GGML_TYPE_COUNT; t++) {
        const struct ggml_type_traits *tr = ggml_get_type_traits((enum ggml_type)t);
        if (tr->type_name && tr->blck_size > 0 && strcasecmp(tr->type_name, name) == 0)
            return t;
    }
    return -1;
}

/* The file types as llama-quantize names them on its command line. */
static const struct {
    const char *name;
    enum llama_ftype ftype;
} FTYPES[] = {
    {"F32", LLAMA_FTYPE_ALL_F32},         {"F16", LLAMA_FTYPE_MOSTLY_F16},
    {"BF16", LLAMA_FTYPE_MOSTLY_BF16},    {"Q8_0", LLAMA_FTYPE_MOSTLY_Q8_0},
    {"Q4_0", LLAMA_FTYPE_MOSTLY_Q4_0},    {"Q4_1", LLAMA_FTYPE_MOSTLY_Q4_1},
    {"Q5_0", LLAMA_FTYPE_MOSTLY_Q5_0},    {"Q5_1", LLAMA_FTYPE_MOSTLY_Q5_1},
    {"Q2_K", LLAMA_FTYPE_MOSTLY_Q2_K},    {"Q2_K_S", LLAMA_FTYPE_MOSTLY_Q2_K_S},
    {"Q3_K", LLAMA_FTYPE_MOSTLY_Q3_K_M},  {"Q3_K_S", LLAMA_FTYPE_MOSTLY_Q3_K_S},
    {"Q3_K_M", LLAMA_FTYPE_MOSTLY_Q3_K_M}, {"Q3_K_L", LLAMA_FTYPE_MOSTLY_Q3_K_L},
    {"Q4_K", LLAMA_FTYPE_MOSTLY_Q4_K_M},  {"Q4_K_S", LLAMA_FTYPE_MOSTLY_Q4_K_S},
    {"Q4_K_M", LLAMA_FTYPE_MOSTLY_Q4_K_M}, {"Q5_K", LLAMA_FTYPE_MOSTLY_Q5_K_M},
    {"Q5_K_S", LLAMA_FTYPE_MOSTLY_Q5_K_S}, {"Q5_K_M", LLAMA_FTYPE_MOSTLY_Q5_K_M},
    {"Q6_K", LLAMA_FTYPE_MOSTLY_Q6_K},    {"IQ1_S", LLAMA_FTYPE_MOSTLY_IQ1_S},
    {"IQ1_M", LLAMA_FTYPE_MOSTLY_IQ1_M},  {"IQ2_XXS", LLAMA_FTYPE_MOSTLY_IQ2_XXS},
    {"IQ2_XS", LLAMA_FTYPE_MOSTLY_IQ2_XS}, {"IQ2_S", LLAMA_FTYPE_MOSTLY_IQ2_S},
    {"IQ2_M", LLAMA_FTYPE_MOSTLY_IQ2_M},  {"IQ3_XXS", LLAMA_FTYPE_MOSTLY_IQ3_XXS},
    {"IQ3_XS", LLAMA_FTYPE_MOSTLY_IQ3_XS}, {"IQ3_S", LLAMA_FTYPE_MOSTLY_IQ3_S},
    {"IQ3_M", LLAMA_FTYPE_MOSTLY_IQ3_M},  {"IQ4_NL", LLAMA_FTYPE_MOSTLY_IQ4_NL},
    {"IQ4_XS", LLAMA_FTYPE_MOSTLY_IQ4_XS}, {"TQ1_0", LLAMA_FTYPE_MOSTLY_TQ1_0},
    {"TQ2_0", LLAMA_FTYPE_MOSTLY_TQ2_0},  {"MXFP4_MOE", LLAMA_FTYPE_MOSTLY_MXFP4_MOE},
};

/* Loads a model on the CPU backend that suits this machine (ggml picks one per x86 generation). */
static struct llama_model *load_model(const char *path, bool vocab_only) {
    ggml_backend_load_all_from_path(ORACLE_LIBDIR);
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    mp.vocab_only = vocab_only;
    return llama_model_load_from_file(path, mp);
}

/* Parses "1,403,407" into ids; returns how many, or -1 when it is not such a list. */
static int parse_ids(const char *text, llama_token **ids) {
    int n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    *ids = malloc(sizeof **ids * (size_t)n);
    const char *p = text;
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX || (*end != ',' && *end != '\0')) {
            free(*ids);
            return -1;
        }
        (*ids)[i] = (llama_token)v;
        p = end + 1;
    }
    return n;
}

static int cmd_logits(Log *log, int threads, const char *model_path, const char *id_list,
                      const char *out_path) {
    llama_token *ids;
    int n = parse_ids(id_list, &ids);
    if (n < 0)
        return fail(NULL, "logits: '%s' is not a comma-separated list of token ids", id_list);
    int rc = 1;
    struct llama_context *ctx = NULL;
    float *logits = NULL;
    struct llama_model *model = load_model(model_path, false);
    if (!model) {
        rc = fail(log, "cannot load %s", model_path);
        goto done;
    }
    int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    for (int i = 0; i < n; i++)
        if (ids[i] >= n_vocab) {
            rc = fail(NULL, "logits: token id %d is not below n_vocab %d", (int)ids[i], n_vocab);
            goto done;
        }

    /* The fixtures' llama.cpp reference: the whole list in one batch, F32 caches (the default
     * F16 cache moves logits by up to 1e-2), no flash attention. */
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = cp.n_batch = cp.n_ubatch = (uint32_t)n;
    cp.n_seq_max = 1;
    cp.n_threads = cp.n_threads_batch = threads;
    cp.type_k = cp.type_v = GGML_TYPE_F32;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.no_perf = true;
    ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        rc = fail(log, "cannot make a context for %s", model_path);
        goto done;
    }
    struct llama_batch batch = llama_batch_init(n, 0, 1);
    for (int i = 0; i < n; i++) {
        batch.token[i] = ids[i];
        batch.pos[i] = i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = 1;
    }
    batch.n_tokens = n;
    int decoded = llama_decode(ctx, batch);
    llama_batch_free(batch);
    if (decoded != 0) {
        rc = fail(log, "llama_decode of %d tokens returned %d", n, decoded);
        goto done;
    }
    logits = malloc(sizeof *logits * (size_t)n * (size_t)n_vocab);
    for (int i = 0; i < n; i++)
        memcpy(logits + (size_t)i * n_vocab, llama_get_logits_ith(ctx, i), sizeof *logits * n_vocab);
    if (write_all(out_path, logits, sizeof *logits * (size_t)n * n_vocab) != 0)
        rc = fail(NULL, "cannot write %s: %s", out_path, strerror(errno));
    else
        rc = 0;
done:
    free(logits);
    if (ctx)
        llama_free(ctx);
    if (model)
        llama_model_free(model);
    free(ids);
    return rc;
}

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One position, RUNS times after one untimed run (page faults, graph allocation): the median and
 * the minimum, in ms. The context is as small as llama.cpp allows so that the K/V cache adds
 * nothing worth measuring. */
static int cmd_decode_time(Log *log, int threads, const char *model_path, const char *id_arg,
                           const char *runs_arg, const char *n_arg) {
    char *end, *n_end = "";
    long id = strtol(id_arg, &end, 10), runs = strtol(runs_arg, NULL, 10);
    long n = n_arg ? strtol(n_arg, &n_end, 10) : 1;
    if (*end || *n_end || id < 0 || runs < 1 || runs > 1000 || n < 1 || n > 4096)
        return fail(NULL, "decode-time: want a token id, 1..1000 runs and 1..4096 positions, not '%s' '%s' '%s'",
                    id_arg, runs_arg, n_arg ? n_arg : "1");
    int rc = 1;
    struct llama_context *ctx = NULL;
    double *t = calloc((size_t)runs, sizeof *t);
    llama_token *toks = calloc((size_t)n, sizeof *toks);
    struct llama_model *model = load_model(model_path, false);
    if (!model) {
        rc = fail(log, "cannot load %s", model_path);
        goto done;
    }
    if (id + n > llama_vocab_n_tokens(llama_model_get_vocab(model))) {
        rc = fail(NULL, "decode-time: token ids %ld..%ld are not below n_vocab", id, id + n - 1);
        goto done;
    }
    for (long i = 0; i < n; i++)
        toks[i] = (llama_token)(id + i);
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = cp.n_batch = cp.n_ubatch = n < 16 ? 16 : (uint32_t)n;
    cp.n_seq_max = 1;
    cp.n_threads = cp.n_threads_batch = threads;
    cp.type_k = cp.type_v = GGML_TYPE_F32;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.no_perf = true;
    ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        rc = fail(log, "cannot make a context for %s", model_path);
        goto done;
    }
    for (long r = -1; r < runs; r++) {
        llama_memory_clear(llama_get_memory(ctx), true);
        struct llama_batch batch = llama_batch_get_one(toks, (int32_t)n);
        double t0 = seconds_now();
        int decoded = llama_decode(ctx, batch);
        llama_synchronize(ctx);
        if (decoded != 0) {
            rc = fail(log, "llama_decode of %ld tokens returned %d", n, decoded);
            goto done;
        }
        if (r >= 0)
            t[r] = seconds_now() - t0;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    printf("%.3f %.3f\n", t[runs / 2] * 1e3, t[0] * 1e3);
    rc = 0;
done:
    free(t);
    free(toks);
    if (ctx)
        llama_free(ctx);
    if (model)
        llama_model_free(model);
    return rc;
}

static int cmd_tokenize(Log *log, const char *model_path, const char *text) {
    struct llama_model *model = load_model(model_path, true);
    if (!model)
        return fail(log, "cannot load the vocabulary of %s", model_path);
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    int len = (int)strlen(text), cap = len + 16;
    llama_token *ids = malloc(sizeof *ids * (size_t)cap);
    int n = llama_tokenize(vocab, text, len, ids, cap, false, false);
    if (n < 0 && n != INT32_MIN) { /* -n is the count it needs */
        cap = -n;
        ids = realloc(ids, sizeof *ids * (size_t)cap);
        n = llama_tokenize(vocab, text, len, ids, cap, false, false);
    }
    int rc = n < 0 ? fail(log, "llama_tokenize failed (%d)", n) : 0;
    for (int i = 0; i < n; i++)
        printf(i ? " %d" : "%d", (int)ids[i]);
    if (rc == 0)
        putchar('\n');
    free(ids);
    llama_model_free(model);
    return rc;
}

/* Prints the ids of text[0..len) as one line; with detok, appends to it llama_detokenize of those
 * ids (special tokens kept and written as their text) as its length, a newline and the bytes.
 * -1 when llama.cpp fails. */
static int tokenize_one(const struct llama_vocab *vocab, const char *text, int len, FILE *detok) {
    int cap = len + 16;
    llama_token *ids = malloc(sizeof *ids * (size_t)cap);
    int n = llama_tokenize(vocab, text, len, ids, cap, false, false);
    if (n < 0 && n != INT32_MIN) { /* -n is the count it needs */
        cap = -n;
        ids = realloc(ids, sizeof *ids * (size_t)cap);
        n = llama_tokenize(vocab, text, len, ids, cap, false, false);
    }
    for (int i = 0; i < n; i++)
        printf(i ? " %d" : "%d", (int)ids[i]);
    if (n >= 0)
        putchar('\n');
    int rc = n < 0 ? -1 : 0;
    if (rc == 0 && detok) {
        int tcap = 4 * len + 64;
        char *t = malloc((size_t)tcap);
        int m = llama_detokenize(vocab, ids, n, t, tcap, false, true);
        if (m < 0) {
            tcap = -m;
            t = realloc(t, (size_t)tcap);
            m = llama_detokenize(vocab, ids, n, t, tcap, false, true);
        }
        if (m < 0)
            rc = -1;
        else
            fprintf(detok, "%d\n", m), fwrite(t, 1, (size_t)m, detok);
        free(t);
    }
    free(ids);
    return rc;
}

static int cmd_tokenize_file(Log *log, const char *model_path, const char *file, const char *detok_path) {
    FILE *f = fopen(file, "rb");
    if (!f)
        return fail(log, "%s: %s", file, strerror(errno));
    size_t cap = 1 << 16, len = 0, n;
    char *data = malloc(cap);
    while ((n = fread(data + len, 1, cap - len, f)) > 0)
        if ((len += n) == cap)
            data = realloc(data, cap *= 2);
    fclose(f);
    FILE *detok = detok_path ? fopen(detok_path, "wb") : NULL;
    if (detok_path && !detok) {
        free(data);
        return fail(log, "%s: %s", detok_path, strerror(errno));
    }
    struct llama_model *model = load_model(model_path, true);
    if (!model) {
        free(data);
        if (detok)
            fclose(detok);
        return fail(log, "cannot load the vocabulary of %s", model_path);
    }
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    int rc = 0, k = 0;
    for (size_t at = 0; at < len && rc == 0; k++) {
        const char *nl = memchr(data + at, '\n', len - at);
        char *end;
        unsigned long n_text = nl ? strtoul(data + at, &end, 10) : 0;
        if (!nl || end != nl || n_text > len - (size_t)(nl + 1 - data) || n_text > INT32_MAX / 8) {
            rc = fail(log, "%s: text %d: not LENGTH, a newline and that many bytes", file, k);
            break;
        }
        if (tokenize_one(vocab, nl + 1, (int)n_text, detok))
            rc = fail(log, "llama_tokenize or llama_detokenize failed on text %d of %s", k, file);
        at = (size_t)(nl + 1 - data) + n_text;
    }
    free(data);
    if (detok && fclose(detok) != 0 && rc == 0)
        rc = fail(log, "%s: write error", detok_path);
    llama_model_free(model);
    return rc;
}

static int cmd_tensor(Log *log, const char *model_path, const char *name, const char *out_path) {
    struct gguf_init_params gp = {.no_alloc = true, .ctx = NULL};
    struct gguf_context *gguf = gguf_init_from_file(model_path, gp);
    if (!gguf)
        return fail(log, "cannot read %s as GGUF", model_path);
    int64_t id = gguf_find_tensor(gguf, name);
    if (id < 0) {
        gguf_free(gguf);
        return fail(NULL, "%s has no tensor %s", model_path, name);
    }
    size_t offset = gguf_get_data_offset(gguf) + gguf_get_tensor_offset(gguf, id);
    size_t size = gguf_get_tensor_size(gguf, id);
    const char *type = ggml_type_name(gguf_get_tensor_type(gguf, id));
    gguf_free(gguf);
    char *data = malloc(size ? size : 1);
    FILE *f = fopen(model_path, "rb");
    int ok = f && fseeko(f, (off_t)offset, SEEK_SET) == 0 && fread(data, 1, size, f) == size;
    if (f)
        fclose(f);
    int rc = !ok ? fail(NULL, "cannot read the %zu bytes of %s from %s", size, name, model_path)
             : write_all(out_path, data, size) != 0 ? fail(NULL, "cannot write %s", out_path)
                                                     : 0;
    for (const char *c = type; rc == 0 && *c; c++) /* upper case, as GGUF tools print types */
        putchar(toupper((unsigned char)*c));
    if (rc == 0)
        putchar('\n');
    free(data);
    return rc;
}

static void print_traits(int type) {
    const struct ggml_type_traits *tr = ggml_get_type_traits((enum ggml_type)type);
    printf("%d ", type);
    for (const char *c = tr->type_name; *c; c++)
        putchar(toupper((unsigned char)*c));
    printf(" %lld %zu %d\n", (long long)tr->blck_size, tr->type_size, tr->to_float != NULL);
}

/* Removed type numbers keep a traits entry with blck_size 0 (or no name): they are skipped. */
static int cmd_traits(const char *type_name) {
    if (type_name) {
        int type = type_by_name(type_name);
        if (type < 0)
            return fail(NULL, "traits: ggml has no type %s", type_name);
        print_traits(type);
        return 0;
    }
    for (int t = 0; t < GGML_TYPE_COUNT; t++) {
        const struct ggml_type_traits *tr = ggml_get_type_traits((enum ggml_type)t);
        if (tr->type_name && tr->blck_size > 0)
            print_traits(t);
    }
    return 0;
}

static int cmd_dequant(const char *type_name, const char *in_path, const char *out_path) {
    int type = type_by_name(type_name);
    if (type < 0)
        return fail(NULL, "dequant: ggml has no type %s", type_name);
    const struct ggml_type_traits *tr = ggml_get_type_traits((enum ggml_type)type);
    if (!tr->to_float)
        return fail(NULL, "dequant: ggml has no to_float for %s", type_name);
    size_t size;
    void *blocks = read_all(in_path, &size);
    if (!blocks)
        return fail(NULL, "cannot read %s: %s", in_path, strerror(errno));
    int rc;
    if (size % tr->type_size != 0) {
        rc = fail(NULL, "%s: %zu bytes are not whole %s blocks of %zu bytes", in_path, size,
                  type_name, tr->type_size);
    } else {
        int64_t n = (int64_t)(size / tr->type_size) * tr->blck_size;
        float *out = malloc(sizeof *out * (size_t)(n ? n : 1));
        tr->to_float(blocks, out, n);
        rc = write_all(out_path, out, sizeof *out * (size_t)n) != 0
                 ? fail(NULL, "cannot write %s", out_path) : 0;
        free(out);
    }
    free(blocks);
    return rc;
}

static int cmd_quant(const char *type_name, const char *row_arg, const char *in_path,
                     const char *out_path, const char *importance_path) {
    int type = type_by_name(type_name);
    if (type < 0)
        return fail(NULL, "quant: ggml has no type %s", type_name);
    char *end;
    int64_t n_per_row = strtoll(row_arg, &end, 10);
    int64_t blck = ggml_blck_size((enum ggml_type)type);
    if (*end || n_per_row <= 0 || n_per_row % blck != 0)
        return fail(NULL, "quant: a row of %s must be a positive multiple of %lld values, not %s",
                    type_name, (long long)blck, row_arg);
    size_t size, imp_size = 0;
    float *src = read_all(in_path, &size), *importance = NULL;
    if (!src)
        return fail(NULL, "cannot read %s: %s", in_path, strerror(errno));
    int rc = 1;
    void *dst = NULL;
    int64_t n = (int64_t)(size / sizeof *src), n_rows = n / n_per_row;
    if (size % sizeof *src != 0 || n % n_per_row != 0) {
        rc = fail(NULL, "quant: %s does not hold whole rows of %lld floats", in_path,
                  (long long)n_per_row);
        goto done;
    }
    if (importance_path) {
        importance = read_all(importance_path, &imp_size);
        if (!importance || imp_size != sizeof *importance * (size_t)n_per_row) {
            rc = fail(NULL, "quant: %s must hold %lld floats, one per column", importance_path,
                      (long long)n_per_row);
            goto done;
        }
    } else if (ggml_quantize_requires_imatrix((enum ggml_type)type)) {
        rc = fail(NULL, "quant: %s needs an importance file", type_name);
        goto done;
    }
    size_t out_size = (size_t)n_rows * ggml_row_size((enum ggml_type)type, n_per_row);
    dst = malloc(out_size ? out_size : 1);
    size_t wrote = ggml_quantize_chunk((enum ggml_type)type, src, dst, 0, n_rows, n_per_row,
                                       importance);
    rc = wrote != out_size ? fail(NULL, "quant: wrote %zu bytes, expected %zu", wrote, out_size)
         : write_all(out_path, dst, out_size) != 0 ? fail(NULL, "cannot write %s", out_path)
                                                   : 0;
done:
    free(dst);
    free(importance);
    free(src);
    return rc;
}

/* The importance files of IMATRIX_DIR as llama_model_quantize takes them: NAME.f32 → NAME, its
 * floats; the array ends with a NULL name. Returns NULL with *error set on failure. */
static struct llama_model_imatrix_data *read_imatrix(const char *dir_path, const char **error) {
    DIR *dir = opendir(dir_path);
    if (!dir) {
        *error = strerror(errno);
        return NULL;
    }
    size_t n = 0;
    struct llama_model_imatrix_data *entries = calloc(1, sizeof *entries);
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 4 || strcmp(e->d_name + len - 4, ".f32") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir_path, e->d_name);
        size_t size;
        float *data = read_all(path, &size);
        if (!data || size % sizeof *data != 0) {
            free(data);
            *error = "an importance file is unreadable or not whole float32 values";
            break;
        }
        entries = realloc(entries, sizeof *entries * (n + 2));
        entries[n].name = strndup(e->d_name, len - 4);
        entries[n].data = data;
        entries[n].size = size / sizeof *data;
        n++;
        entries[n] = (struct llama_model_imatrix_data){0};
    }
    closedir(dir);
    if (e == NULL && n > 0)
        return entries;
    if (e == NULL)
        *error = "no NAME.f32 files in it";
    for (size_t i = 0; i < n; i++) {
        free((char *)entries[i].name);
        free((float *)entries[i].data);
    }
    free(entries);
    return NULL;
}

static int cmd_quantize(Log *log, int threads, bool pure, const char *in_path,
                        const char *out_path, const char *ftype_name, const char *imatrix_dir) {
    struct llama_model_quantize_params qp = llama_model_quantize_default_params();
    size_t i = 0, n_ftypes = sizeof FTYPES / sizeof FTYPES[0];
    while (i < n_ftypes && strcmp(FTYPES[i].name, ftype_name) != 0)
        i++;
    if (i == n_ftypes)
        return fail(NULL, "quantize: unknown file type %s (llama-quantize's names: Q8_0, Q4_K_M, "
                          "IQ4_XS, ...)", ftype_name);
    qp.ftype = FTYPES[i].ftype;
    qp.nthread = threads;
    qp.pure = pure;
    /* a quantized input is dequantized by ggml's to_float first: F32 of an IQ4_XS file is the
     * oracle's dequantized model */
    qp.allow_requantize = true;
    struct llama_model_imatrix_data *imatrix = NULL;
    if (imatrix_dir) {
        const char *error = NULL;
        if (!(imatrix = read_imatrix(imatrix_dir, &error)))
            return fail(NULL, "quantize: importance folder %s: %s", imatrix_dir, error);
        qp.imatrix = imatrix;
    }
    uint32_t rc = llama_model_quantize(in_path, out_path, &qp);
    for (struct llama_model_imatrix_data *p = imatrix; p && p->name; p++) {
        free((char *)p->name);
        free((float *)p->data);
    }
    free(imatrix);
    return rc ? fail(log, "llama_model_quantize %s -> %s (%s) failed", in_path, out_path,
                     ftype_name)
              : 0;
}

static int usage(void) {
    fputs("usage: llama_oracle [-t THREADS] COMMAND ARGS\n"
          "  logits MODEL.gguf ID,ID,... OUT.f32\n"
          "  decode-time MODEL.gguf ID RUNS [N]\n"
          "  tokenize MODEL.gguf TEXT\n"
          "  tokenize-file MODEL.gguf FILE [DETOK]\n"
          "  tensor MODEL.gguf NAME OUT\n"
          "  traits [TYPE]\n"
          "  dequant TYPE IN OUT.f32\n"
          "  quant TYPE N_PER_ROW IN.f32 OUT [IMPORTANCE.f32]\n"
          "  quantize [--pure] IN.gguf OUT.gguf FTYPE [IMATRIX_DIR]\n"
          "(tests/oracle/llama_oracle.c says what each does)\n",
          stderr);
    return 2;
}

int main(int argc, char **argv) {
    int threads = 1;
    argv++, argc--;
    if (argc >= 2 && strcmp(argv[0], "-t") == 0) {
        threads = atoi(argv[1]);
        if (threads < 1)
            return usage();
        argv += 2, argc -= 2;
    }
    if (argc < 1)
        return usage();
    Log log = {{0}};
    llama_log_set(keep_errors, &log); /* also ggml's log */
    ggml_log_set(keep_errors, &log);
    const char *cmd = argv[0];
    argv++, argc--;
    int rc;
    if (strcmp(cmd, "logits") == 0 && argc == 3) {
        llama_backend_init();
        rc = cmd_logits(&log, threads, argv[0], argv[1], argv[2]);
        llama_backend_free();
    } else if (strcmp(cmd, "decode-time") == 0 && (argc == 3 || argc == 4)) {
        llama_backend_init();
        rc = cmd_decode_time(&log, threads, argv[0], argv[1], argv[2], argc == 4 ? argv[3] : NULL);
        llama_backend_free();
    } else if (strcmp(cmd, "tokenize") == 0 && argc == 2) {
        llama_backend_init();
        rc = cmd_tokenize(&log, argv[0], argv[1]);
        llama_backend_free();
    } else if (strcmp(cmd, "tokenize-file") == 0 && (argc == 2 || argc == 3)) {
        llama_backend_init();
        rc = cmd_tokenize_file(&log, argv[0], argv[1], argc == 3 ? argv[2] : NULL);
        llama_backend_free();
    } else if (strcmp(cmd, "tensor") == 0 && argc == 3) {
        rc = cmd_tensor(&log, argv[0], argv[1], argv[2]);
    } else if (strcmp(cmd, "traits") == 0 && argc <= 1) {
        rc = cmd_traits(argc == 1 ? argv[0] : NULL);
    } else if (strcmp(cmd, "dequant") == 0 && argc == 3) {
        rc = cmd_dequant(argv[0], argv[1], argv[2]);
    } else if (strcmp(cmd, "quant") == 0 && (argc == 4 || argc == 5)) {
        rc = cmd_quant(argv[0], argv[1], argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    } else if (strcmp(cmd, "quantize") == 0 && argc >= 3) {
        bool pure = strcmp(argv[0], "--pure") == 0;
        argv += pure, argc -= pure;
        if (argc != 3 && argc != 4)
            return usage();
        llama_backend_init();
        rc = cmd_quantize(&log, threads, pure, argv[0], argv[1], argv[2], argc == 4 ? argv[3] : NULL);
        llama_backend_free();
    } else {
        return usage();
    }
    return rc;
}
