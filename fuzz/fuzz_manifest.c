/* libFuzzer harness for the manifest reader (analysis/manifest.c): the input is a manifest CSV,
 * written to a folder of its own that also holds one small model file (m.gguf, 4 bytes), a model
 * folder (d/ with model.safetensors, config.json, tokenizer.json) and a tokenizer folder without
 * tokenizer.json (t/), so that rows can name things that exist. manifest_load must either succeed
 * (every entry with a name, a path, a known kind, every base listed, bases first) and then free
 * everything, or fail with exactly one non-empty line; manifest_check_tokenizers likewise.
 * Seeds: fuzz/corpus/manifest/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/manifest.h"
#include "common/util.h"

#define FUZZ_NAME "fuzz_manifest"
#include "fuzz/fuzzutil.h"

static char folder[64], path[96];

static void put(const char *rel, const char *text) {
    char p[160];
    snprintf(p, sizeof p, "%s/%s", folder, rel);
    FILE *f = fopen(p, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(p);
        exit(1);
    }
}

static void cleanup(void) {
    static const char *const files[] = {"m.csv", "m.gguf", "d/model.safetensors", "d/config.json",
                                        "d/tokenizer.json", NULL};
    char p[160];
    for (const char *const *f = files; *f; f++) snprintf(p, sizeof p, "%s/%s", folder, *f), unlink(p);
    snprintf(p, sizeof p, "%s/d", folder), rmdir(p);
    snprintf(p, sizeof p, "%s/t", folder), rmdir(p);
    rmdir(folder);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    snprintf(folder, sizeof folder, "/tmp/fuzz_manifest.XXXXXX");
    if (!mkdtemp(folder)) {
        perror("fuzz_manifest: mkdtemp");
        exit(1);
    }
    atexit(cleanup);
    char p[160];
    snprintf(p, sizeof p, "%s/d", folder), mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/t", folder), mkdir(p, 0700);
    put("m.gguf", "GGUF");
    put("d/model.safetensors", "");
    put("d/config.json", "{}");
    put("d/tokenizer.json", "{}");
    snprintf(path, sizeof path, "%s/m.csv", folder);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0, "cannot write %s", path);
    Manifest m;
    Err err;
    if (manifest_load(&m, path, &err) != 0) {
        check_err(&err, "manifest_load");
        return 0;
    }
    CHECK(m.n > 0, "a manifest loaded with no entries");
    for (size_t i = 0; i < m.n; i++) {
        const Entry *e = &m.e[i];
        CHECK(e->name[0] && e->path[0], "entry %zu without a name or path", i);
        CHECK(e->line >= 2, "entry %zu without its line", i);
        if (e->base) {
            size_t j = 0;
            while (j < i && strcmp(m.e[j].name, e->base)) j++;
            CHECK(j < i, "base '%s' of '%s' does not come before it", e->base, e->name);
        }
    }
    if (manifest_check_tokenizers(&m, path, &err) != 0) check_err(&err, "manifest_check_tokenizers");
    manifest_free(&m);
    return 0;
}
