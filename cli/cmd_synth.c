/* coldtok synth: write a random-weight GGUF model of a real shape (for tests and benchmarks). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "quant/synth.h"
#include "formats/qtype.h"

static const char USAGE[] =
    "usage: coldtok synth (--preset NAME | --arch ARCH --dims LIST) [--type T] [--seed N]\n"
    "                     [--std S] [--tokenizer tokenizer.json] -o FILE.gguf\n"
    "\n"
    "Writes a model with seeded random weights and a minimal byte-level vocabulary (or a real one:\n"
    "--tokenizer), loadable by coldtok and llama.cpp-style readers.\n"
    "\n"
    "  --preset NAME   real shapes: qwen2.5-0.5b, qwen2.5-1.5b, qwen2.5-7b, llama-3.2-1b, qwen3-0.6b,\n"
    "                  codegemma-7b, gemma-2-2b, gemma-3-1b, qwen3-coder-30b-a3b,\n"
    "                  deepseek-coder-v2-lite, phi-3.5-mini, starcoder2-3b, granite-3b-code,\n"
    "                  mistral-7b; small ones: tiny-llama, tiny-qwen2, tiny-qwen3, tiny-gemma,\n"
    "                  tiny-gemma2, tiny-gemma3, tiny-qwen2moe, tiny-qwen3moe, tiny-deepseek2,\n"
    "                  tiny-phi3, tiny-starcoder2, tiny-granite\n"
    "  --arch ARCH     llama, qwen2, qwen3, gemma, gemma2, gemma3, qwen2moe, qwen3moe, deepseek2, phi3,\n"
    "                  starcoder2 or granite (mistral: llama; with --preset: overrides the preset's)\n"
    "  --dims LIST     comma-separated key=value over the preset (or over tiny-ARCH): vocab, embd,\n"
    "                  layers, ff, heads, kv_heads, head_dim, theta, eps, tied (0/1), ctx (context\n"
    "                  length), rot (rotated dims of a head); gemma2/3: window, swa_period,\n"
    "                  attn_softcap, final_softcap, theta_swa; RoPE scaling: yarn=FACTOR or\n"
    "                  longrope=1 (seeded short/long factors), orig_ctx (default 4096), beta_fast,\n"
    "                  beta_slow, attn_factor (rope.scaling.attn_factor); experts, experts_used,\n"
    "                  ff_exp, ff_shexp (mixtures of experts); deepseek2 also kv_lora, q_lora (0: a\n"
    "                  direct attn_q), rope_dims (= rot), v_head_dim (head_dim is the q/k head width,\n"
    "                  qk_nope + rope_dims), dense_lead (leading dense layers; experts 0: all dense;\n"
    "                  ff_shexp: all shared experts, a multiple of ff_exp), yarn_mscale (YaRN's\n"
    "                  mscale = mscale_all_dim)\n"
    "  --type T        matrix type: F32, F16 (default), BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,\n"
    "                  Q2_K .. Q6_K (a k-quant that does not fit a matrix falls back like\n"
    "                  llama.cpp: Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K/Q3_K -> Q4_0)\n"
    "  --seed N        random seed (default 1)\n"
    "  --std S         standard deviation of the matrix entries (default 0.02; tiny: 0.05)\n"
    "  --tokenizer F   write this tokenizer.json's vocabulary, as a model converted from it carries\n"
    "                  it (padded to the embedding's rows), instead of the minimal one\n"
    "  -o FILE         the GGUF file to write\n";

static int set_dim(SynthSpec *s, const char *kv) {
    const char *eq = strchr(kv, '=');
    if (!eq) return -1;
    size_t k = (size_t)(eq - kv);
    char *end;
    double v = strtod(eq + 1, &end);
    if (end == eq + 1 || *end) return -1;
    struct { const char *name; int *field; } ints[] = {
        {"vocab", &s->n_vocab}, {"embd", &s->n_embd}, {"layers", &s->n_layer}, {"ff", &s->n_ff},
        {"heads", &s->n_head}, {"kv_heads", &s->n_head_kv}, {"head_dim", &s->head_dim},
        {"tied", &s->tied}, {"window", &s->n_swa}, {"swa_period", &s->swa_period},
        {"ctx", &s->n_ctx}, {"rot", &s->n_rot}, {"orig_ctx", &s->rope_orig_ctx},
        {"experts", &s->n_expert}, {"experts_used", &s->n_expert_used},
        {"ff_exp", &s->n_ff_exp}, {"ff_shexp", &s->n_ff_shexp}, {"kv_lora", &s->kv_lora_rank},
        {"q_lora", &s->q_lora_rank}, {"rope_dims", &s->n_rot}, {"v_head_dim", &s->head_dim_v},
        {"dense_lead", &s->n_dense_lead}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (strlen(ints[i].name) == k && !strncmp(kv, ints[i].name, k)) {
            if (v < 0 || v > (1 << 24) || v != (int)v) return -1;
            *ints[i].field = (int)v;
            return 0;
        }
    if (k == 5 && !strncmp(kv, "theta", 5)) return s->rope_theta = (float)v, 0;
    if (k == 3 && !strncmp(kv, "eps", 3)) return s->rms_eps = (float)v, 0;
    if (k == 12 && !strncmp(kv, "attn_softcap", 12) && v >= 0) return s->attn_softcap = (float)v, 0;
    if (k == 13 && !strncmp(kv, "final_softcap", 13) && v >= 0) return s->final_softcap = (float)v, 0;
    if (k == 9 && !strncmp(kv, "theta_swa", 9) && v >= 0) return s->rope_theta_swa = (float)v, 0;
    /* RoPE scaling: yarn=FACTOR, longrope=1 (0: none), and their knobs */
    if (k == 4 && !strncmp(kv, "yarn", 4)) return s->rope_scaling = ROPE_SCALING_YARN, s->rope_factor = (float)v, 0;
    if (k == 8 && !strncmp(kv, "longrope", 8)) {
        if (v != 0 && v != 1) return -1;
        return s->rope_scaling = v ? ROPE_SCALING_LONGROPE : ROPE_SCALING_NONE, 0;
    }
    if (k == 9 && !strncmp(kv, "beta_fast", 9)) return s->yarn_beta_fast = (float)v, 0;
    if (k == 9 && !strncmp(kv, "beta_slow", 9)) return s->yarn_beta_slow = (float)v, 0;
    if (k == 11 && !strncmp(kv, "attn_factor", 11)) return s->rope_attn_factor = (float)v, 0;
    if (k == 11 && !strncmp(kv, "yarn_mscale", 11)) return s->yarn_mscale = (float)v, 0;
    return -1;
}

int cmd_synth(int argc, char **argv) {
    enum { PRESET = 1000, ARCH, DIMS, TYPE, SEED, STD, TOKENIZER };
    static const struct option opts[] = {
        {"preset", required_argument, NULL, PRESET}, {"arch", required_argument, NULL, ARCH},
        {"dims", required_argument, NULL, DIMS},     {"type", required_argument, NULL, TYPE},
        {"seed", required_argument, NULL, SEED},     {"std", required_argument, NULL, STD},
        {"tokenizer", required_argument, NULL, TOKENIZER},
        {"output", required_argument, NULL, 'o'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *preset = NULL, *arch = NULL, *dims = NULL, *type = "F16", *out = NULL;
    const char *seed = NULL, *std = NULL, *tokenizer = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case PRESET: preset = optarg; break;
        case ARCH: arch = optarg; break;
        case DIMS: dims = optarg; break;
        case TYPE: type = optarg; break;
        case SEED: seed = optarg; break;
        case STD: std = optarg; break;
        case TOKENIZER: tokenizer = optarg; break;
        case 'o': out = optarg; break;
        case 'h': fputs(USAGE, stdout); return 0;
        default: return cli_option_error("synth", c, argv, opts);
        }
    }
    int bad = cli_no_operands("synth", argc, argv);
    if (bad) return bad;
    if (!out) return cli_usage_error("synth", "missing -o FILE.gguf");
    if (!preset && !arch) return cli_usage_error("synth", "give --preset NAME or --arch ARCH");
    SynthSpec s;
    const ArchInfo *ai = arch ? arch_by_gguf_name(arch) : NULL; /* mistral: llama */
    if (arch && !ai) {
        char names[256];
        arch_list(0, names, sizeof names);
        return cli_usage_error("synth", "unknown arch '%s' (%s)", arch, names);
    }
    char base[32];
    if (!preset) snprintf(base, sizeof base, "tiny-%s", ai->name);
    if (synth_preset(preset ? preset : base, &s) != 0)
        return cli_usage_error("synth", preset ? "unknown preset '%s' (%s)" : "no small preset for arch '%s'%s",
                               preset ? preset : arch, preset ? synth_preset_names() : "");
    if (ai) s.arch = ai->arch;
    if (dims) {
        char *d = xstrdup(dims), *save = NULL;
        for (char *kv = strtok_r(d, ",", &save); kv; kv = strtok_r(NULL, ",", &save))
            if (set_dim(&s, kv) != 0) {
                int r = cli_usage_error("synth", "bad --dims entry '%s'", kv);
                free(d);
                return r;
            }
        free(d);
    }
    int t = qtype_from_name(type);
    if (t < 0 || !synth_type_ok((uint32_t)t))
        return cli_usage_error("synth", "--type %s: not a type synth can write (F32, F16, BF16, Q8_0, "
                               "Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)", type);
    s.type = (uint32_t)t;
    if (seed) {
        char *end;
        s.seed = strtoull(seed, &end, 10);
        if (*end || !*seed) return cli_usage_error("synth", "--seed wants a number, not '%s'", seed);
    }
    if (std) {
        char *end;
        s.std = strtof(std, &end);
        if (*end || !(s.std > 0 && s.std < 10)) return cli_usage_error("synth", "--std wants 0 < S < 10");
    }
    if (cli_make_parent("synth", out)) return 1;
    Err err;
    double t0 = now_seconds();
    s.tokenizer = tokenizer;
    if (synth_write(&s, out, &err) != 0) return cli_fail("synth", "%s", err.msg);
    fprintf(stderr, "coldtok synth: wrote %s (%s, %s, %d layers, n_embd %d, n_ff %d, heads %d/%d x %d, "
            "vocab %d%s) in %.1f s\n", out, arch_name(s.arch), qtype_name(s.type), s.n_layer, s.n_embd,
            s.n_ff, s.n_head, s.n_head_kv, s.head_dim, s.n_vocab, s.tied ? ", tied" : "",
            now_seconds() - t0);
    return 0;
}
