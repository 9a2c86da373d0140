/* quantfmt_memory: the forward pass over a GPTQ checkpoint dequantizes row panels just before use,
 * never the model to f32 at load (issue 13: "Peak RSS of any HF quantized model below its files'
 * size + 10 % + 256 MiB"; make bench's bench_quantfmt measures it on the Qwen2.5-0.5B shape).
 *
 * A GPTQ-4bit group-128 folder of two Qwen2.5-0.5B-shaped layers (vocabulary 1024: 28.9 M packed
 * weights, a 110 MiB f32 copy) is written by bench/gptq_synth.h, with and without desc_act. The
 * anonymous memory of this process (RssAnon: what malloc holds; the mapped file is not in it)
 * may grow over model_load + fwd_new + one forward by less than an eighth of that f32 copy; and,
 * so that the measure can fail, dequantizing the packed matrices whole with hq_rows_f32 into
 * fresh pages of our own (mmap: fwd_new raises malloc's mmap and trim thresholds, so freed heap
 * would hide a copy) does grow it by at least the copy's size. Not run in a sanitizer build
 * (its shadow memory is anonymous memory too). */
#include "testutil.h"

#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/gptq_synth.h"
#include "model/forward.h"
#include "model/model.h"

static double rss_anon_mib(void) {
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (fp && fgets(line, sizeof line, fp))
        if (sscanf(line, "RssAnon: %ld kB", &kb) == 1) break;
    if (fp) fclose(fp);
    return kb / 1024.0;
}

static void remove_folder(const char *dir) {
    const char *files[] = {"config.json", "tokenizer.json", "model.safetensors"};
    char p[4200];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void panels_not_model(int desc_act) {
    const char *bin = getenv("COLDTOK");
#if defined(__SANITIZE_ADDRESS__)
    bin = "asan";
#endif
    if (bin && strstr(bin, "asan")) {
        printf("# skip: anonymous memory is no measure in a sanitizer build\n");
        skip();
    }
    char base[] = "/tmp/coldtok-test-quantfmt.XXXXXX", dir[4100];
    assert_non_null(mkdtemp(base));
    snprintf(dir, sizeof dir, "%s/gptq", base);
    SynthSpec s;
    assert_int_equal(synth_preset("qwen2.5-0.5b", &s), 0);
    s.n_layer = 2, s.n_vocab = 1024;
    Err err = {0};
    assert_int_equal(gptq_synth_write(&s, dir, desc_act, &err), 0);

    malloc_trim(0); /* what an earlier test freed must not serve this one unseen */
    double anon0 = rss_anon_mib();
    Model *m = model_load(dir, &err);
    assert_non_null(m);
    Forward *f = fwd_new(m, COMPUTE_F32, &err);
    assert_non_null(f);
    float *logits = xmalloc((size_t)m->cfg.n_vocab * sizeof *logits);
    int tok = 256;
    assert_int_equal(fwd_eval(f, &tok, 1, logits, 0, &err), 0);
    for (int i = 0; i < m->cfg.n_vocab; i++) assert_true(isfinite(logits[i]));
    double grown = rss_anon_mib() - anon0;

    /* the packed matrices and what a whole f32 copy of them takes */
    double weights = 0;
    int n_packed = 0;
    for (int l = 0; l < m->cfg.n_layer; l++) {
        const Layer *y = &m->layers[l];
        const Tensor *ts[] = {&y->wq, &y->wk, &y->wv, &y->wo, &y->w_gate, &y->w_up, &y->w_down};
        for (int k = 0; k < 7; k++) {
            assert_int_equal(ts[k]->hq.method, HQ_GPTQ);
            assert_int_equal(!!ts[k]->hq.g_idx, desc_act); /* the trivial g_idx is not looked up */
            weights += (double)ts[k]->hq.rows * (double)ts[k]->hq.cols;
            n_packed++;
        }
    }
    assert_int_equal(n_packed, 14);
    double copy_mib = 4 * weights / 1048576;
    printf("# desc_act %d: anonymous memory +%.1f MiB over load and one forward (an f32 copy: %.1f MiB)\n",
           desc_act, grown, copy_mib);
    assert_true(grown < copy_mib / 8);

    /* the measure sees a whole-model conversion when there is one */
    double before = rss_anon_mib();
    float **copy = xcalloc((size_t)n_packed, sizeof *copy);
    size_t *sizes = xcalloc((size_t)n_packed, sizeof *sizes);
    for (int l = 0, i = 0; l < m->cfg.n_layer; l++) {
        const Layer *y = &m->layers[l];
        const Tensor *ts[] = {&y->wq, &y->wk, &y->wv, &y->wo, &y->w_gate, &y->w_up, &y->w_down};
        for (int k = 0; k < 7; k++, i++) {
            size_t bytes = (size_t)(ts[k]->hq.rows * ts[k]->hq.cols) * sizeof(float);
            copy[i] = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            assert_true(copy[i] != MAP_FAILED);
            sizes[i] = bytes;
            hq_rows_f32(&ts[k]->hq, 0, (int)ts[k]->hq.rows, copy[i]);
        }
    }
    double converted = rss_anon_mib() - before;
    printf("# a whole f32 copy made here: +%.1f MiB\n", converted);
    assert_true(converted >= copy_mib * 0.95);
    for (int i = 0; i < n_packed; i++) munmap(copy[i], sizes[i]);
    free(copy);
    free(sizes);

    free(logits);
    fwd_free(f);
    model_free(m);
    remove_folder(dir);
    rmdir(base);
}

static void gptq_group128(void **state) {
    (void)state;
    panels_not_model(0);
}

static void gptq_desc_act(void **state) {
    (void)state;
    panels_not_model(1);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(gptq_group128), cmocka_unit_test(gptq_desc_act)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
