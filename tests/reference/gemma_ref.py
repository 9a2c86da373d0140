#!/usr/bin/python3
"""Small seeded Gemma, Gemma 2 and Gemma 3 (text) Hugging Face folders and their float64 logits.

Writes, under OUT (default tests/data), one folder per case (gemma-hf-gemma, gemma-hf-gemma2,
gemma-hf-gemma3, gemma-hf-gemma2-qscale), each holding config.json, model.safetensors,
prompt.json ({"ids": [...]}) and torch.logits.f32 (float32 little-endian [n_pos][vocab]: the
logits at every prompt position), like tests/reference/torch_ref.py (whose safetensors writer and
rotate_half it reuses).

The forward pass is written from transformers' definitions (modeling_gemma.py, modeling_gemma2.py,
modeling_gemma3.py); transformers itself is not used:
  - embeddings times hidden_size ** 0.5 (transformers makes it a tensor of the activations' dtype;
    here float64);
  - every RMSNorm (input, post-attention, pre- and post-feedforward, final, Gemma 3's q/k norms)
    as x / sqrt(mean(x^2) + eps) * (1 + w): the stored weight is w, not 1 + w;
  - GeGLU MLP: down(gelu_pytorch_tanh(gate(h)) * up(h));
  - Gemma: queries scaled by head_dim ** -0.5; Gemma 2/3 by query_pre_attn_scalar ** -0.5;
  - Gemma 2: scores soft-capped (cap * tanh(s / cap), attn_logit_softcapping) before the mask,
    final logits soft-capped (final_logit_softcapping); post-norms after attention and MLP;
    sliding-window layers from layer_types (every other one: is_sliding = not layer_idx % 2);
  - Gemma 3: q/k RMSNorm before RoPE; sliding layers where (layer_idx + 1) % sliding_window_pattern
    != 0, rotated with rope_local_base_freq and no scaling; the others with rope_theta and the
    rope_scaling (linear: positions / factor);
  - sliding window w: the query at position p sees keys p - w + 1 .. p.
Weights are stored as F32 and the pass runs in float64, so the reference is the exact answer.
The prompt (14 positions) is longer than every case's window (4 or 5).

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/gemma_ref.py [OUT]
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import rotate_half, write_safetensors  # noqa: E402

VOCAB, HIDDEN, INTER = 160, 64, 128
PROMPT = [2, 17, 42, 99, 5, 63, 120, 7, 33, 64, 150, 11, 90, 3]

CASES = [
    # name, model_type, layers, heads, kv heads, head_dim, extra config
    ("gemma-hf-gemma", "gemma", 2, 4, 1, 32,
     {"hidden_act": "gelu", "hidden_activation": "gelu_pytorch_tanh", "rope_theta": 10000.0}),
    ("gemma-hf-gemma2", "gemma2", 4, 4, 2, 16,
     {"hidden_activation": "gelu_pytorch_tanh", "rope_theta": 10000.0, "query_pre_attn_scalar": 16,
      "attn_logit_softcapping": 3.0, "final_logit_softcapping": 6.0, "sliding_window": 4,
      "layer_types": ["sliding_attention", "full_attention"] * 2}),
    ("gemma-hf-gemma3", "gemma3_text", 4, 4, 2, 32,
     {"hidden_activation": "gelu_pytorch_tanh", "rope_theta": 1000000.0,
      "rope_local_base_freq": 10000.0, "query_pre_attn_scalar": 32, "sliding_window": 5,
      "sliding_window_pattern": 3, "rope_scaling": {"rope_type": "linear", "factor": 4.0},
      "attn_logit_softcapping": None, "final_logit_softcapping": None}),
    # query_pre_attn_scalar other than head_dim: coldtok reads it from config.json; llama.cpp derives
    # the scale from the shape, so this one has no GGUF form (the test checks the converter says so)
    ("gemma-hf-gemma2-qscale", "gemma2", 2, 4, 2, 16,
     {"hidden_activation": "gelu_pytorch_tanh", "rope_theta": 10000.0, "query_pre_attn_scalar": 40,
      "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0, "sliding_window": 4}),
]
ARCHS = {"gemma": "GemmaForCausalLM", "gemma2": "Gemma2ForCausalLM", "gemma3_text": "Gemma3ForCausalLM"}


def make_weights(mt, layers, H, KV, hd, gen):
    w = {}

    def mat(rows, cols, std=0.15):
        return torch.randn(rows, cols, generator=gen, dtype=torch.float32) * std

    def norm(n):  # the stored w of a (1 + w) norm
        return torch.randn(n, generator=gen, dtype=torch.float32) * 0.3

    w["model.embed_tokens.weight"] = mat(VOCAB, HIDDEN, 0.3)
    sandwich = mt != "gemma"
    for l in range(layers):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = norm(HIDDEN)
        w[p + "self_attn.q_proj.weight"] = mat(H * hd, HIDDEN)
        w[p + "self_attn.k_proj.weight"] = mat(KV * hd, HIDDEN)
        w[p + "self_attn.v_proj.weight"] = mat(KV * hd, HIDDEN)
        if mt == "gemma3_text":
            w[p + "self_attn.q_norm.weight"] = norm(hd)
            w[p + "self_attn.k_norm.weight"] = norm(hd)
        w[p + "self_attn.o_proj.weight"] = mat(HIDDEN, H * hd)
        w[p + "post_attention_layernorm.weight"] = norm(HIDDEN)
        if sandwich:
            w[p + "pre_feedforward_layernorm.weight"] = norm(HIDDEN)
            w[p + "post_feedforward_layernorm.weight"] = norm(HIDDEN)
        w[p + "mlp.gate_proj.weight"] = mat(INTER, HIDDEN)
        w[p + "mlp.up_proj.weight"] = mat(INTER, HIDDEN)
        w[p + "mlp.down_proj.weight"] = mat(HIDDEN, INTER)
    w["model.norm.weight"] = norm(HIDDEN)
    return w


# ---- the forward pass (float64) ----

def gemma_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (1.0 + w)


def gelu_tanh(x):  # gelu_pytorch_tanh
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def softcap(x, cap):
    return cap * torch.tanh(x / cap)


def rope_tables(theta, hd, T, factor):
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64) / factor, inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos()[:, None, :], emb.sin()[:, None, :]  # [T, 1, hd]


def is_sliding(cfg, l):
    mt = cfg["model_type"]
    if mt == "gemma":
        return False
    if cfg.get("layer_types"):
        return cfg["layer_types"][l] == "sliding_attention"
    if mt == "gemma2":
        return l % 2 == 0
    return (l + 1) % cfg.get("sliding_window_pattern", 6) != 0


def forward(cfg, w, ids):
    mt, eps = cfg["model_type"], cfg["rms_norm_eps"]
    H, KV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    W = {k: v.to(torch.float64) for k, v in w.items()}
    T = len(ids)
    x = W["model.embed_tokens.weight"][torch.tensor(ids)] * (cfg["hidden_size"] ** 0.5)
    rs = cfg.get("rope_scaling") or {}
    factor = rs["factor"] if rs.get("rope_type", rs.get("type")) == "linear" else 1.0
    glob = rope_tables(cfg["rope_theta"], hd, T, factor)
    local = rope_tables(cfg.get("rope_local_base_freq", 10000.0), hd, T, 1.0) if mt == "gemma3_text" else glob
    scale = cfg["query_pre_attn_scalar"] ** -0.5 if mt != "gemma" else hd ** -0.5
    qi = torch.arange(T)[:, None]
    ki = torch.arange(T)[None, :]
    causal = ki > qi
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        sliding = is_sliding(cfg, l)
        h = gemma_norm(x, W[p + "input_layernorm.weight"], eps)
        q = (h @ W[p + "self_attn.q_proj.weight"].T).view(T, H, hd)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).view(T, KV, hd)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).view(T, KV, hd)
        if mt == "gemma3_text":
            q = gemma_norm(q, W[p + "self_attn.q_norm.weight"], eps)
            k = gemma_norm(k, W[p + "self_attn.k_norm.weight"], eps)
        cos, sin = local if sliding else glob
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        att = torch.einsum("thd,shd->hts", q, k) * scale
        if cfg.get("attn_logit_softcapping"):
            att = softcap(att, cfg["attn_logit_softcapping"])
        masked = causal | ((qi - ki) >= cfg["sliding_window"]) if sliding else causal
        att = att.masked_fill(masked, float("-inf")).softmax(-1)
        o = torch.einsum("hts,shd->thd", att, v).reshape(T, H * hd) @ W[p + "self_attn.o_proj.weight"].T
        if mt == "gemma":
            x = x + o
            h = gemma_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        else:
            x = x + gemma_norm(o, W[p + "post_attention_layernorm.weight"], eps)
            h = gemma_norm(x, W[p + "pre_feedforward_layernorm.weight"], eps)
        m = (gelu_tanh(h @ W[p + "mlp.gate_proj.weight"].T) * (h @ W[p + "mlp.up_proj.weight"].T)) \
            @ W[p + "mlp.down_proj.weight"].T
        if mt != "gemma":
            m = gemma_norm(m, W[p + "post_feedforward_layernorm.weight"], eps)
        x = x + m
    x = gemma_norm(x, W["model.norm.weight"], eps)
    logits = x @ W["model.embed_tokens.weight"].T  # tied
    if cfg.get("final_logit_softcapping"):
        logits = softcap(logits, cfg["final_logit_softcapping"])
    return logits.to(torch.float32)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
    for seed, (name, mt, layers, H, KV, hd, extra) in enumerate(CASES):
        gen = torch.Generator().manual_seed(4321 + seed)
        cfg = {
            "architectures": [ARCHS[mt]], "model_type": mt, "vocab_size": VOCAB,
            "hidden_size": HIDDEN, "intermediate_size": INTER, "num_hidden_layers": layers,
            "num_attention_heads": H, "num_key_value_heads": KV, "head_dim": hd,
            "rms_norm_eps": 1e-6, "max_position_embeddings": 8192, "tie_word_embeddings": True,
            "torch_dtype": "float32",
        }
        cfg.update(extra)
        w = make_weights(mt, layers, H, KV, hd, gen)
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        write_safetensors(os.path.join(folder, "model.safetensors"), w, "F32")
        with open(os.path.join(folder, "prompt.json"), "w") as f:
            json.dump({"ids": PROMPT}, f)
        logits = forward(cfg, w, PROMPT)
        with open(os.path.join(folder, "torch.logits.f32"), "wb") as f:
            f.write(logits.numpy().astype("<f4").tobytes())
        print(f"{folder}: {mt}, logits {tuple(logits.shape)}, max |logit| {logits.abs().max():.3f}")


if __name__ == "__main__":
    main()
