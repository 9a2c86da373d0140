/* run_record: the inputs and settings of a run, hashed and written as DIR/run.json (jansson). */
#include "report/run_record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "analysis/keywords.h"
#include "analysis/manifest.h"
#include "common/version.h"

typedef struct {
    char *path, *kind, *folder; /* folder: the folder given on the command line, or NULL */
} Input;

typedef struct {
    char *path; /* as given */
    char hex[SHA256_HEX_LEN];
    uint64_t size;
} Digest;

struct RunRecord {
    char **argv;
    int argc;
    time_t start;
    int threads;
    char *compute;
    Input *in;
    size_t n, cap;
    HashCache *cache;   /* NULL until run_record_cache */
    Digest *dg;         /* every file hashed by this run, once */
    size_t ndg, capdg;
};

RunRecord *run_record_start(int argc, char **argv) {
    RunRecord *r = xcalloc(1, sizeof *r);
    r->start = time(NULL);
    r->argc = argc;
    r->argv = xcalloc((size_t)argc + 1, sizeof *r->argv);
    for (int i = 0; i < argc; i++) r->argv[i] = xstrdup(argv[i]);
#ifdef _OPENMP
    r->threads = omp_get_max_threads();
#else
    r->threads = 1;
#endif
    return r;
}

void run_record_threads(RunRecord *r, int threads) { r->threads = threads; }

void run_record_compute(RunRecord *r, const char *mode) {
    free(r->compute);
    r->compute = mode ? xstrdup(mode) : NULL;
}

/* ---- which files of a folder are inputs ---- */

/* The files of a Hugging Face model folder that a run reads or that define the model: weights,
 * their index, the config and the tokenizer (hashing a README or a stray .bin would only cost). */
static int is_model_file(const char *name) {
    static const char *const exact[] = {"config.json", "generation_config.json", "tokenizer.json",
                                        "tokenizer_config.json", "tokenizer.model",
                                        "special_tokens_map.json", "added_tokens.json",
                                        "vocab.json", "merges.txt", NULL};
    for (int i = 0; exact[i]; i++)
        if (!strcmp(name, exact[i])) return 1;
    return ends_with(name, ".safetensors") || ends_with(name, ".safetensors.index.json") ||
           ends_with(name, ".gguf");
}

static int is_tokenizer_file(const char *name) {
    return !strncmp(name, "tokenizer", 9) || !strcmp(name, "special_tokens_map.json") ||
           !strcmp(name, "added_tokens.json") || !strcmp(name, "vocab.json") ||
           !strcmp(name, "merges.txt");
}

static int folder_wants(const char *kind, const char *name) {
    if (name[0] == '.') return 0;
    if (!strcmp(kind, "keywords")) return ends_with(name, ".tsv");
    if (!strcmp(kind, "tokenizer")) return is_model_file(name) && is_tokenizer_file(name);
    return is_model_file(name);
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The wanted regular files directly inside dir, in byte order of their names (n of them; free
 * each and the array). */
static char **folder_files(const char *dir, const char *kind, size_t *n) {
    char **names = NULL;
    size_t cap = 0;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!folder_wants(kind, e->d_name)) continue;
        Buf p = {0};
        buf_printf(&p, "%s/%s", dir, e->d_name);
        if (!is_file(p.data)) {
            buf_free(&p);
            continue;
        }
        if (*n == cap) names = xrealloc(names, (cap = cap ? 2 * cap : 16) * sizeof *names);
        names[(*n)++] = p.data;
    }
    closedir(d);
    if (*n) qsort(names, *n, sizeof *names, cmp_names);
    return names;
}

static void add_one(RunRecord *r, const char *kind, const char *path, const char *folder) {
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->in[i].path, path)) return;
    if (r->n == r->cap) r->in = xrealloc(r->in, (r->cap = r->cap ? 2 * r->cap : 16) * sizeof *r->in);
    r->in[r->n++] = (Input){xstrdup(path), xstrdup(kind), folder ? xstrdup(folder) : NULL};
}

void run_record_input(RunRecord *r, const char *kind, const char *path) {
    if (!is_dir(path)) {
        add_one(r, kind, path, NULL);
        return;
    }
    size_t n;
    char **files = folder_files(path, kind, &n);
    for (size_t i = 0; i < n; i++) { /* a model folder's tokenizer files are its tokenizer */
        const char *base = strrchr(files[i], '/') + 1;
        add_one(r, is_tokenizer_file(base) ? "tokenizer" : kind, files[i], path);
        free(files[i]);
    }
    free(files);
}

void run_record_models(RunRecord *r, const Manifest *m) {
    for (size_t i = 0; i < m->n; i++) run_record_input(r, "model", m->e[i].path);
    for (size_t i = 0; i < m->n; i++) {
        char *tok = model_tokenizer_path(m->e[i].path, m->e[i].tokenizer);
        run_record_input(r, "tokenizer", tok);
        free(tok);
    }
}

void run_record_keywords(RunRecord *r, const char *const *files, size_t n, int builtin) {
    for (size_t i = 0; i < n; i++) run_record_input(r, "keywords", files[i]);
    if (!builtin) return;
    Err err;
    char *data = kw_data_dir(&err);
    if (!data) return; /* the run itself would have failed to load them */
    const char *sub[] = {"keywords", "control"};
    for (int i = 0; i < 2; i++) {
        Buf p = {0};
        buf_printf(&p, "%s/%s", data, sub[i]);
        run_record_input(r, "keywords", p.data);
        buf_free(&p);
    }
    free(data);
}

void run_record_cache(RunRecord *r, const char *dir) {
    if (r->cache) return;
    Buf p = {0};
    buf_printf(&p, "%s/.sha256-cache", dir);
    r->cache = hash_cache_open(p.data);
    buf_free(&p);
}

int run_record_digest(RunRecord *r, const char *path, char hex[SHA256_HEX_LEN], uint64_t *size, Err *err) {
    if (!r) return sha256_file(path, hex, size, err);
    for (size_t i = 0; i < r->ndg; i++)
        if (!strcmp(r->dg[i].path, path)) {
            memcpy(hex, r->dg[i].hex, SHA256_HEX_LEN);
            if (size) *size = r->dg[i].size;
            return 0;
        }
    uint64_t got = 0;
    if (hash_cache_file(r->cache, path, hex, &got, err) != 0) return -1;
    if (size) *size = got;
    if (r->ndg == r->capdg) r->dg = xrealloc(r->dg, (r->capdg = r->capdg ? 2 * r->capdg : 16) * sizeof *r->dg);
    Digest *d = &r->dg[r->ndg++];
    d->path = xstrdup(path);
    memcpy(d->hex, hex, SHA256_HEX_LEN);
    d->size = got;
    return 0;
}

int model_digest(const char *path, uint64_t *bytes, char hex[SHA256_HEX_LEN], Err *err) {
    return run_record_model_digest(NULL, path, bytes, hex, err);
}

int run_record_model_digest(RunRecord *r, const char *path, uint64_t *bytes, char hex[SHA256_HEX_LEN], Err *err) {
    if (!is_dir(path)) return run_record_digest(r, path, hex, bytes, err);
    size_t n;
    char **files = folder_files(path, "model", &n);
    Buf list = {0};
    uint64_t total = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char h[SHA256_HEX_LEN];
        uint64_t size = 0;
        rc = run_record_digest(r, files[i], h, &size, err);
        total += size;
        buf_printf(&list, "%s\n", h);
    }
    if (rc == 0 && n == 0) rc = err_set(err, "%s: no model file in this folder", path);
    if (rc == 0) rc = sha256_buffer(list.data, list.len, hex, err);
    if (rc == 0) *bytes = total;
    for (size_t i = 0; i < n; i++) free(files[i]);
    free(files);
    buf_free(&list);
    return rc;
}

/* ---- writing ---- */

static json_t *iso_time(time_t t) {
    struct tm tm;
    char s[32];
    gmtime_r(&t, &tm);
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(s);
}

/* /proc/cpuinfo's first "model name", or "unknown". */
static json_t *cpu_name(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    json_t *name = NULL;
    while (f && !name && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10)) continue;
        char *v = strchr(line, ':');
        if (!v) continue;
        v++;
        while (*v == ' ' || *v == '\t') v++;
        v[strcspn(v, "\n")] = '\0';
        name = json_string(v);
    }
    if (f) fclose(f);
    return name ? name : json_string("unknown");
}

/* Writes text to dir/name through a temporary of a unique name, fsync and rename
 * (common/util.h write_file_atomic), so a reader never sees a half-written file and a crash leaves
 * the old one. */
static int write_atomic(const char *dir, const char *name, const char *text, Err *err) {
    Buf dst = {0};
    buf_printf(&dst, "%s/%s", dir, name);
    int rc = write_file_atomic(dst.data, text, strlen(text), err);
    buf_free(&dst);
    return rc;
}

static json_t *inputs_json(RunRecord *r, Err *err) {
    json_t *a = json_array();
    for (size_t i = 0; i < r->n; i++) {
        char hex[SHA256_HEX_LEN];
        uint64_t size = 0;
        if (run_record_digest(r, r->in[i].path, hex, &size, err)) {
            json_decref(a);
            return NULL;
        }
        json_t *o = json_object();
        json_object_set_new(o, "path", json_string(r->in[i].path));
        json_object_set_new(o, "kind", json_string(r->in[i].kind));
        if (r->in[i].folder) json_object_set_new(o, "folder", json_string(r->in[i].folder));
        json_object_set_new(o, "bytes", json_integer((json_int_t)size));
        json_object_set_new(o, "sha256", json_string(hex));
        json_array_append_new(a, o);
    }
    return a;
}

int run_record_write(RunRecord *r, const char *dir, Err *err) {
    time_t end = time(NULL);
    run_record_cache(r, dir);
    json_t *inputs = inputs_json(r, err);
    if (!inputs) return -1;
    Err ignored;
    hash_cache_save(r->cache, &ignored); /* advisory: a cache that cannot be written only costs time */
    json_t *o = json_object(), *argv = json_array();
    Buf line = {0};
    buf_puts(&line, "coldtok");
    json_array_append_new(argv, json_string("coldtok"));
    for (int i = 0; i < r->argc; i++) {
        json_array_append_new(argv, json_string(r->argv[i]));
        buf_printf(&line, " %s", r->argv[i]);
    }
    char cwd[4096];
    json_object_set_new(o, "tool", json_string("coldtok"));
    json_object_set_new(o, "version", json_string(coldtok_version()));
    json_object_set_new(o, "command", json_string(r->argc ? r->argv[0] : ""));
    json_object_set_new(o, "command_line", json_string(line.data));
    json_object_set_new(o, "argv", argv);
    json_object_set_new(o, "cwd", getcwd(cwd, sizeof cwd) ? json_string(cwd) : json_null());
    json_object_set_new(o, "start", iso_time(r->start));
    json_object_set_new(o, "end", iso_time(end));
    json_object_set_new(o, "threads", json_integer(r->threads));
    if (r->compute) json_object_set_new(o, "compute", json_string(r->compute));
    json_object_set_new(o, "cpu", cpu_name());
    json_object_set_new(o, "inputs", inputs);
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    Buf s = {0};
    buf_printf(&s, "%s\n", text);
    int rc = write_atomic(dir, "run.json", s.data, err);
    buf_clear(&s);
    buf_printf(&s, "%s\n", coldtok_version());
    if (rc == 0) rc = write_atomic(dir, "version", s.data, err);
    free(text);
    buf_free(&s);
    buf_free(&line);
    json_decref(o);
    return rc;
}

void run_record_free(RunRecord *r) {
    if (!r) return;
    for (int i = 0; i < r->argc; i++) free(r->argv[i]);
    free(r->argv);
    for (size_t i = 0; i < r->n; i++) free(r->in[i].path), free(r->in[i].kind), free(r->in[i].folder);
    free(r->in);
    free(r->compute);
    for (size_t i = 0; i < r->ndg; i++) free(r->dg[i].path);
    free(r->dg);
    hash_cache_free(r->cache);
    free(r);
}
