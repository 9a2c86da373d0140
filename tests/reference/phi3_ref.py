#!/usr/bin/python3
"""Phi-3 and RoPE-scaling reference folders: small seeded Hugging Face models and their logits
from a float64 PyTorch forward pass (tests/cli_arch_phi3.sh compares coldtok with them).

Writes, under OUT (default tests/data), one folder per case, each with config.json,
model.safetensors, prompt.json ({"ids": [...]}) and torch.logits.f32 (float32 [n_pos][vocab]):
  phi3-hf-f32        phi3: fused qkv_proj and gate_up_proj, GQA, sliding_window 8 < the prompt
  phi3-hf-longrope   phi3 with rope_scaling longrope (short/long factors, original context 512 at
                     the top of the config as Phi-3.5's, max_position_embeddings 4096; above the oracle's
                     context, which llama.cpp pads to 256, so it takes the short factors too), partial
                     rotary 0.5 (Phi-4-mini rotates 0.75 of each head), no window in reach
  phi3-hf-qwen2-yarn qwen2 with rope_scaling yarn (factor 4 over an original 8; beta_fast 16 and
                     beta_slow 2, not the defaults), max_position_embeddings = 4 * 8

The forward pass is written from transformers' modeling_phi3.py (Phi3Attention: one qkv_proj
split q | k | v; Phi3MLP: gate_up_proj chunked gate | up, up * silu(gate); apply_rotary_pos_emb on
the first rotary_dim dims of each head; the causal mask with sliding_window: key j seen by query i
when i - window < j <= i) and modeling_qwen2.py, with the RoPE inits of modeling_rope_utils.py
(_compute_longrope_parameters, _compute_yarn_parameters: inverse frequencies and the
attention_factor that multiplies cos and sin). LongRoPE takes the short factors while the sequence
fits the original context, as here. transformers itself is not used; float64 throughout.

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/phi3_ref.py [OUT]
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import rms_norm, rotate_half, write_safetensors  # noqa: E402

VOCAB, HIDDEN, INTER, LAYERS = 160, 64, 96, 2
PROMPT = [1, 17, 42, 99, 5, 63, 120, 7, 33, 64, 150, 2, 88, 41, 77, 159, 10, 54, 131, 23]


def cases():
    g = torch.Generator().manual_seed(77)
    short = [round(1.0 + 0.5 * i + float(torch.rand(1, generator=g)), 4) for i in range(4)]
    long_ = [round(4.0 + 3.0 * i + float(torch.rand(1, generator=g)), 4) for i in range(4)]
    phi3 = {"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "vocab_size": VOCAB,
            "hidden_size": HIDDEN, "intermediate_size": INTER, "num_hidden_layers": LAYERS,
            "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5,
            "rope_theta": 10000.0, "hidden_act": "silu", "attention_bias": False,
            "tie_word_embeddings": False, "torch_dtype": "float32"}
    return [
        ("phi3-hf-f32", dict(phi3, max_position_embeddings=4096, sliding_window=8)),
        ("phi3-hf-longrope", dict(phi3, max_position_embeddings=4096, original_max_position_embeddings=512,
                                  sliding_window=262144, partial_rotary_factor=0.5,
                                  rope_scaling={"type": "longrope", "short_factor": short,
                                                "long_factor": long_})),
        ("phi3-hf-qwen2-yarn", {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
                                "vocab_size": VOCAB, "hidden_size": HIDDEN, "intermediate_size": INTER,
                                "num_hidden_layers": LAYERS, "num_attention_heads": 4,
                                "num_key_value_heads": 2, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
                                "hidden_act": "silu", "tie_word_embeddings": True,
                                "max_position_embeddings": 32, "torch_dtype": "float32",
                                "rope_scaling": {"type": "yarn", "factor": 4.0,
                                                 "original_max_position_embeddings": 8,
                                                 "beta_fast": 16, "beta_slow": 2}}),
    ]


def make_weights(cfg, gen):
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = HIDDEN // H
    w = {}

    def mat(rows, cols, std=0.08):
        return torch.randn(rows, cols, generator=gen, dtype=torch.float32) * std

    def vec(n, mean=1.0, std=0.1):
        return mean + torch.randn(n, generator=gen, dtype=torch.float32) * std

    w["model.embed_tokens.weight"] = mat(VOCAB, HIDDEN, 0.5)
    for l in range(LAYERS):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = vec(HIDDEN)
        if cfg["model_type"] == "phi3":
            w[p + "self_attn.qkv_proj.weight"] = mat((H + 2 * KV) * hd, HIDDEN)
            w[p + "mlp.gate_up_proj.weight"] = mat(2 * INTER, HIDDEN)
        else:
            w[p + "self_attn.q_proj.weight"] = mat(H * hd, HIDDEN)
            w[p + "self_attn.k_proj.weight"] = mat(KV * hd, HIDDEN)
            w[p + "self_attn.v_proj.weight"] = mat(KV * hd, HIDDEN)
            w[p + "self_attn.q_proj.bias"] = vec(H * hd, 0.0, 0.2)
            w[p + "self_attn.k_proj.bias"] = vec(KV * hd, 0.0, 0.2)
            w[p + "self_attn.v_proj.bias"] = vec(KV * hd, 0.0, 0.2)
            w[p + "mlp.gate_proj.weight"] = mat(INTER, HIDDEN)
            w[p + "mlp.up_proj.weight"] = mat(INTER, HIDDEN)
        w[p + "self_attn.o_proj.weight"] = mat(HIDDEN, H * hd)
        w[p + "post_attention_layernorm.weight"] = vec(HIDDEN)
        w[p + "mlp.down_proj.weight"] = mat(HIDDEN, INTER)
    w["model.norm.weight"] = vec(HIDDEN)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = mat(VOCAB, HIDDEN, 0.3)
    return w


# ---- RoPE inits (modeling_rope_utils.py) ----

def rope_init(cfg, dim, seq_len):
    """Inverse frequencies [dim/2] and the attention factor that multiplies cos and sin."""
    base = cfg["rope_theta"]
    pos_freqs = base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    rs = cfg.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    if kind == "default":
        return 1.0 / pos_freqs, 1.0
    if kind in ("longrope", "su"):  # _compute_longrope_parameters
        factor = rs.get("factor")
        if "original_max_position_embeddings" in cfg:
            orig = cfg["original_max_position_embeddings"]
            factor = cfg["max_position_embeddings"] / orig
        else:
            orig = cfg["max_position_embeddings"]
        af = rs.get("attention_factor")
        if af is None:
            af = 1.0 if factor <= 1.0 else math.sqrt(1 + math.log(factor) / math.log(orig))
        ext = torch.tensor(rs["long_factor"] if seq_len > orig else rs["short_factor"], dtype=torch.float64)
        return 1.0 / (ext * pos_freqs), af
    if kind == "yarn":  # _compute_yarn_parameters
        factor = rs["factor"]
        orig = rs.get("original_max_position_embeddings", cfg["max_position_embeddings"])

        def get_mscale(scale, mscale=1):
            return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0

        af = rs.get("attention_factor")
        if af is None:
            ms, ms_all = rs.get("mscale"), rs.get("mscale_all_dim")
            af = get_mscale(factor, ms) / get_mscale(factor, ms_all) if ms and ms_all else get_mscale(factor)
        beta_fast, beta_slow = rs.get("beta_fast") or 32, rs.get("beta_slow") or 1

        def corr_dim(rot):
            return (dim * math.log(orig / (rot * 2 * math.pi))) / (2 * math.log(base))

        low = max(math.floor(corr_dim(beta_fast)), 0)
        high = min(math.ceil(corr_dim(beta_slow)), dim - 1)
        if low == high:
            high += 0.001
        ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
        extra = 1 - ramp  # 1: extrapolated (the frequency kept)
        inv = (1.0 / (factor * pos_freqs)) * (1 - extra) + (1.0 / pos_freqs) * extra
        return inv, af
    raise ValueError(kind)


# ---- the forward pass (float64) ----

def forward(cfg, w, ids):
    eps, H, KV = cfg["rms_norm_eps"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = HIDDEN // H
    rot = int(hd * cfg.get("partial_rotary_factor", 1.0))
    W = {k: v.to(torch.float64) for k, v in w.items()}
    T = len(ids)
    x = W["model.embed_tokens.weight"][torch.tensor(ids)]
    inv, af = rope_init(cfg, rot, T)
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = (emb.cos() * af)[:, None, :], (emb.sin() * af)[:, None, :]  # [T, 1, rot]
    i, j = torch.arange(T)[:, None], torch.arange(T)[None, :]
    seen = j <= i
    window = cfg.get("sliding_window") if cfg["model_type"] == "phi3" else None
    if window:
        seen &= j > i - window
    mask = torch.where(seen, 0.0, float("-inf")).to(torch.float64)

    def rope(t):
        r, rest = t[..., :rot], t[..., rot:]
        return torch.cat((r * cos + rotate_half(r) * sin, rest), dim=-1)

    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        if p + "self_attn.qkv_proj.weight" in W:
            qkv = h @ W[p + "self_attn.qkv_proj.weight"].T
            q, k, v = qkv[:, :H * hd], qkv[:, H * hd:(H + KV) * hd], qkv[:, (H + KV) * hd:]
        else:
            q = h @ W[p + "self_attn.q_proj.weight"].T + W[p + "self_attn.q_proj.bias"]
            k = h @ W[p + "self_attn.k_proj.weight"].T + W[p + "self_attn.k_proj.bias"]
            v = h @ W[p + "self_attn.v_proj.weight"].T + W[p + "self_attn.v_proj.bias"]
        q, k, v = rope(q.reshape(T, H, hd)), rope(k.reshape(T, KV, hd)), v.reshape(T, KV, hd)
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        att = (torch.einsum("thd,shd->hts", q, k) / math.sqrt(hd) + mask).softmax(-1)
        o = torch.einsum("hts,shd->thd", att, v).reshape(T, H * hd)
        x = x + o @ W[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        if p + "mlp.gate_up_proj.weight" in W:
            gate, up = (h @ W[p + "mlp.gate_up_proj.weight"].T).chunk(2, dim=-1)
        else:
            gate, up = h @ W[p + "mlp.gate_proj.weight"].T, h @ W[p + "mlp.up_proj.weight"].T
        x = x + (up * torch.nn.functional.silu(gate)) @ W[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return (x @ head.T).to(torch.float32)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
    for seed, (name, cfg) in enumerate(cases()):
        gen = torch.Generator().manual_seed(4321 + seed)
        w = make_weights(cfg, gen)
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
        print(f"{folder}: {cfg['model_type']}, logits {tuple(logits.shape)}, max |logit| {logits.abs().max():.3f}")


if __name__ == "__main__":
    main()
