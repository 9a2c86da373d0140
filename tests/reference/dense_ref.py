#!/usr/bin/python3
"""Small seeded Hugging Face folders of the dense families StarCoder2, Granite and Mistral (and a
Granite-Code-style llama with attention and MLP biases), with float64 logits of a forward pass
written from transformers' definitions (modeling_starcoder2.py, modeling_granite.py,
modeling_mistral.py, modeling_llama.py); transformers itself is not used.

Writes, under OUT (default tests/data), one folder per case, each holding:
  config.json                  the transformers config of the family
  model.safetensors            F32 weights, HF names
  tokenizer.json               a copy of tests/data/cov-tiny-tokenizer.json (so that `coldtok
                               quantize` writes a vocabulary llama.cpp loads)
  prompt.json                  {"ids": [...]}: 12 positions, longer than the sliding windows (4)
  torch.logits.f32             float32 little-endian [n_pos][vocab]: logits at every position, as
                               transformers computes them (sliding window applied where the config
                               has one)
  torch.full.logits.f32        (families with a window) the same weights with full attention: what a
                               GGUF file of them computes, since llama.cpp reads no sliding window
                               for llama (mistral) or starcoder2

What each family computes (transformers):
  starcoder2  x = embed; per layer: h = LayerNorm(x) (weight, bias, norm_epsilon); q/k/v/o with
              biases (use_bias), RoPE rotate_half, GQA, sliding-window causal mask (the query at p
              sees keys p-window+1..p); x += o; h = LayerNorm(x); x += c_proj(gelu_tanh(c_fc(h)))
              (biases); final LayerNorm; logits = h . embed^T (tie_word_embeddings true)
  granite     llama with x = embed * embedding_multiplier, attention scores q.k * attention_multiplier
              (not 1/sqrt(head_dim)), x += residual_multiplier * block output (both blocks), logits
              / logits_scaling; attention_bias (q/k/v/o) and mlp_bias (gate/up/down) as configured
  mistral     llama with the sliding-window mask of sliding_window
  llama       (dense-llama-bias) attention_bias and mlp_bias, as ibm-granite/granite-3b-code

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/dense_ref.py [OUT]
"""
import json
import math
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import rotate_half, write_safetensors  # noqa: E402

VOCAB, HIDDEN, INTER, LAYERS, HEADS, KV, HD = 128, 64, 128, 2, 4, 2, 16
WINDOW = 4
PROMPT = [1, 17, 42, 99, 5, 63, 120, 7, 33, 64, 2, 88]

CASES = [
    ("dense-starcoder2-f32", "starcoder2", {
        "architectures": ["Starcoder2ForCausalLM"], "norm_epsilon": 1e-5, "use_bias": True,
        "hidden_act": "gelu_pytorch_tanh", "rope_theta": 100000.0, "sliding_window": WINDOW,
        "tie_word_embeddings": True}),
    ("dense-granite-f32", "granite", {
        "architectures": ["GraniteForCausalLM"], "rms_norm_eps": 1e-6, "hidden_act": "silu",
        "rope_theta": 10000.0, "attention_bias": True, "mlp_bias": True,
        "embedding_multiplier": 12.0, "attention_multiplier": 0.015625, "residual_multiplier": 0.22,
        "logits_scaling": 8.0, "tie_word_embeddings": False}),
    ("dense-mistral-f32", "mistral", {
        "architectures": ["MistralForCausalLM"], "rms_norm_eps": 1e-5, "hidden_act": "silu",
        "rope_theta": 10000.0, "sliding_window": WINDOW, "tie_word_embeddings": False}),
    ("dense-llama-bias-f32", "llama", {
        "architectures": ["LlamaForCausalLM"], "rms_norm_eps": 1e-5, "hidden_act": "silu",
        "rope_theta": 10000000.0, "attention_bias": True, "mlp_bias": True,
        "tie_word_embeddings": True}),
]


def make_weights(mt, cfg, gen):
    """HF-named F32 tensors."""
    w = {}

    def mat(rows, cols, std=0.1):
        return torch.randn(rows, cols, generator=gen, dtype=torch.float32) * std

    def vec(n, mean=0.0, std=0.2):
        return mean + torch.randn(n, generator=gen, dtype=torch.float32) * std

    attn_bias = cfg.get("use_bias", False) or cfg.get("attention_bias", False)
    mlp_bias = cfg.get("use_bias", False) or cfg.get("mlp_bias", False)
    norm_bias = mt == "starcoder2"
    w["model.embed_tokens.weight"] = mat(VOCAB, HIDDEN, 0.5 if mt != "granite" else 0.05)
    for l in range(LAYERS):
        p = f"model.layers.{l}."
        for norm in ("input_layernorm", "post_attention_layernorm"):
            w[p + norm + ".weight"] = vec(HIDDEN, 1.0, 0.1)
            if norm_bias:
                w[p + norm + ".bias"] = vec(HIDDEN, 0.0, 0.1)
        for name, rows in (("q_proj", HEADS * HD), ("k_proj", KV * HD), ("v_proj", KV * HD)):
            w[p + f"self_attn.{name}.weight"] = mat(rows, HIDDEN)
            if attn_bias:
                w[p + f"self_attn.{name}.bias"] = vec(rows)
        w[p + "self_attn.o_proj.weight"] = mat(HIDDEN, HEADS * HD)
        if attn_bias:
            w[p + "self_attn.o_proj.bias"] = vec(HIDDEN)
        if mt == "starcoder2":
            mlp = (("c_fc", INTER, HIDDEN), ("c_proj", HIDDEN, INTER))
        else:
            mlp = (("gate_proj", INTER, HIDDEN), ("up_proj", INTER, HIDDEN), ("down_proj", HIDDEN, INTER))
        for name, rows, cols in mlp:
            w[p + f"mlp.{name}.weight"] = mat(rows, cols)
            if mlp_bias:
                w[p + f"mlp.{name}.bias"] = vec(rows)
    w["model.norm.weight"] = vec(HIDDEN, 1.0, 0.1)
    if norm_bias:
        w["model.norm.bias"] = vec(HIDDEN, 0.0, 0.1)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = mat(VOCAB, HIDDEN, 3.0 if mt == "granite" else 0.2)  # granite: / logits_scaling
    return w


# ---- the forward pass (float64) ----

def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def linear(W, p, x):
    """x . W[p.weight]^T (+ W[p.bias] when the checkpoint has it)."""
    y = x @ W[p + ".weight"].T
    return y + W[p + ".bias"] if p + ".bias" in W else y


def forward(mt, cfg, w, ids, window):
    """Logits [T, vocab]; window None: full causal attention."""
    W = {k: v.to(torch.float64) for k, v in w.items()}
    T, H, KVH = len(ids), cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg["hidden_size"] // H
    if mt == "starcoder2":
        eps = cfg["norm_epsilon"]

        def norm(x, p):
            return torch.nn.functional.layer_norm(x, (x.shape[-1],), W[p + ".weight"], W[p + ".bias"], eps)
    else:
        eps = cfg["rms_norm_eps"]

        def norm(x, p):
            return rms_norm(x, W[p + ".weight"], eps)
    granite = mt == "granite"
    scale = cfg["attention_multiplier"] if granite else 1 / math.sqrt(hd)
    res = cfg["residual_multiplier"] if granite else 1.0
    x = W["model.embed_tokens.weight"][torch.tensor(ids)]
    if granite:
        x = x * cfg["embedding_multiplier"]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
    q_idx, k_idx = torch.arange(T)[:, None], torch.arange(T)[None, :]
    allowed = k_idx <= q_idx
    if window:  # transformers' sliding_window_overlay: kv_idx > q_idx - sliding_window
        allowed = allowed & (k_idx > q_idx - window)
    mask = torch.zeros(T, T, dtype=torch.float64).masked_fill(~allowed, float("-inf"))
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = norm(x, p + "input_layernorm")
        q = linear(W, p + "self_attn.q_proj", h).view(T, H, hd)
        k = linear(W, p + "self_attn.k_proj", h).view(T, KVH, hd)
        v = linear(W, p + "self_attn.v_proj", h).view(T, KVH, hd)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KVH, dim=1)
        v = v.repeat_interleave(H // KVH, dim=1)
        att = (torch.einsum("thd,shd->hts", q, k) * scale + mask).softmax(-1)
        o = torch.einsum("hts,shd->thd", att, v).reshape(T, H * hd)
        x = x + res * linear(W, p + "self_attn.o_proj", o)
        h = norm(x, p + "post_attention_layernorm")
        if mt == "starcoder2":
            f = linear(W, p + "mlp.c_proj",
                       torch.nn.functional.gelu(linear(W, p + "mlp.c_fc", h), approximate="tanh"))
        else:
            g = linear(W, p + "mlp.gate_proj", h)
            f = linear(W, p + "mlp.down_proj", torch.nn.functional.silu(g) * linear(W, p + "mlp.up_proj", h))
        x = x + res * f
    x = norm(x, "model.norm")
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    logits = x @ head.T
    if granite:
        logits = logits / cfg["logits_scaling"]
    return logits.to(torch.float32)


def write_logits(path, logits):
    with open(path, "wb") as f:
        f.write(logits.numpy().astype("<f4").tobytes())


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
    here = os.path.dirname(os.path.abspath(__file__))
    tok = os.path.join(os.path.dirname(here), "data", "cov-tiny-tokenizer.json")
    for seed, (name, mt, extra) in enumerate(CASES):
        gen = torch.Generator().manual_seed(4321 + seed)
        cfg = {"model_type": mt, "vocab_size": VOCAB, "hidden_size": HIDDEN, "intermediate_size": INTER,
               "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "num_key_value_heads": KV,
               "max_position_embeddings": 4096, "torch_dtype": "float32"}
        cfg.update(extra)
        w = make_weights(mt, cfg, gen)
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        write_safetensors(os.path.join(folder, "model.safetensors"), w, "F32")
        shutil.copyfile(tok, os.path.join(folder, "tokenizer.json"))
        with open(os.path.join(folder, "prompt.json"), "w") as f:
            json.dump({"ids": PROMPT}, f)
        window = cfg.get("sliding_window")
        logits = forward(mt, cfg, w, PROMPT, window)
        write_logits(os.path.join(folder, "torch.logits.f32"), logits)
        line = f"{folder}: {mt}, logits {tuple(logits.shape)}, max |logit| {logits.abs().max():.3f}"
        if window:
            full = forward(mt, cfg, w, PROMPT, None)
            write_logits(os.path.join(folder, "torch.full.logits.f32"), full)
            line += f", window {window} changes them by up to {(full - logits).abs().max():.3f}"
        print(line)


if __name__ == "__main__":
    main()
