#!/usr/bin/python3
"""Small seeded Hugging Face model folders and their logits from a plain-PyTorch forward pass.

Writes, under OUT (default tests/data), one folder per case (hf-llama-f32, hf-llama-bf16,
hf-qwen2-f32, hf-qwen2-f16 (sharded), hf-qwen3-f32, hf-llama-tied-f16), each holding:
  config.json                the transformers config of the architecture
  model.safetensors          or model-0000N-of-00002.safetensors + model.safetensors.index.json
  prompt.json                {"ids": [...]}
  torch.logits.f32           float32 little-endian [n_pos][vocab]: logits at every prompt position

The forward pass below is written from the published architecture definitions (transformers'
modeling_llama.py / modeling_qwen2.py / modeling_qwen3.py: RMSNorm, rotate_half RoPE with the
default / linear / llama3 frequency rules, GQA by repeating KV heads, SwiGLU MLP, tied or untied
head); transformers itself is not used. It runs in float64 on the weights exactly as stored
(F16/BF16 weights rounded first), so the reference is the exact answer for those weights.
The safetensors files are written by hand (safetensors_io.py: 8 bytes of header length, a JSON
header, the raw data), since Debian has no python3-safetensors.

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/torch_ref.py [OUT]   (make references)
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

DT = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}

CASES = [
    # name, model_type, dtype, dims, extra config, shards
    ("hf-llama-f32", "llama", "F32", dict(heads=4, kv=2, head_dim=16), {"tie_word_embeddings": False}, 1),
    ("hf-llama-bf16", "llama", "BF16", dict(heads=4, kv=2, head_dim=16),
     {"tie_word_embeddings": False, "rope_scaling": {"type": "linear", "factor": 2.0}}, 1),
    ("hf-qwen2-f32", "qwen2", "F32", dict(heads=4, kv=2, head_dim=16), {"tie_word_embeddings": True}, 1),
    ("hf-qwen2-f16", "qwen2", "F16", dict(heads=4, kv=1, head_dim=16), {"tie_word_embeddings": False}, 2),
    ("hf-qwen3-f32", "qwen3", "F32", dict(heads=4, kv=2, head_dim=32), {"tie_word_embeddings": True}, 1),
    ("hf-llama-tied-f16", "llama", "F16", dict(heads=4, kv=4, head_dim=16),
     {"tie_word_embeddings": True, "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
      "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 256}}, 1),
]
VOCAB, HIDDEN, INTER, LAYERS = 128, 64, 96, 2
PROMPT = [1, 17, 42, 99, 5, 63, 120, 7, 33, 64]


def make_weights(model_type, d, tied, gen, dtype):
    """HF-named tensors, already rounded to the storage dtype."""
    hd, H, KV = d["head_dim"], d["heads"], d["kv"]
    w = {}

    def mat(rows, cols, std=0.08):
        return torch.randn(rows, cols, generator=gen, dtype=torch.float32) * std

    def vec(n, mean=1.0, std=0.1):
        return mean + torch.randn(n, generator=gen, dtype=torch.float32) * std

    w["model.embed_tokens.weight"] = mat(VOCAB, HIDDEN, 0.5)
    for l in range(LAYERS):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = vec(HIDDEN)
        w[p + "self_attn.q_proj.weight"] = mat(H * hd, HIDDEN)
        w[p + "self_attn.k_proj.weight"] = mat(KV * hd, HIDDEN)
        w[p + "self_attn.v_proj.weight"] = mat(KV * hd, HIDDEN)
        if model_type == "qwen2":
            w[p + "self_attn.q_proj.bias"] = vec(H * hd, 0.0, 0.2)
            w[p + "self_attn.k_proj.bias"] = vec(KV * hd, 0.0, 0.2)
            w[p + "self_attn.v_proj.bias"] = vec(KV * hd, 0.0, 0.2)
        if model_type == "qwen3":
            w[p + "self_attn.q_norm.weight"] = vec(hd)
            w[p + "self_attn.k_norm.weight"] = vec(hd)
        w[p + "self_attn.o_proj.weight"] = mat(HIDDEN, H * hd)
        w[p + "post_attention_layernorm.weight"] = vec(HIDDEN)
        w[p + "mlp.gate_proj.weight"] = mat(INTER, HIDDEN)
        w[p + "mlp.up_proj.weight"] = mat(INTER, HIDDEN)
        w[p + "mlp.down_proj.weight"] = mat(HIDDEN, INTER)
    w["model.norm.weight"] = vec(HIDDEN)
    if not tied:
        w["lm_head.weight"] = mat(VOCAB, HIDDEN, 0.1)
    return {k: v.to(DT[dtype]) for k, v in w.items()}


# ---- the forward pass (float64) ----

def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def inv_freqs(cfg, hd):
    theta = cfg.get("rope_theta", 10000.0)
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    rs = cfg.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    if kind == "llama3":  # transformers' _compute_llama3_parameters
        factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        lo_wl, hi_wl = old / lo, old / hi
        wavelen = 2 * math.pi / inv
        out = torch.where(wavelen > lo_wl, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * out / factor + smooth * out
        medium = (wavelen >= hi_wl) & (wavelen <= lo_wl)
        inv = torch.where(medium, smoothed, out)
    return inv, (rs["factor"] if kind == "linear" else 1.0)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def forward(cfg, w, ids):
    eps, H, KV = cfg["rms_norm_eps"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or cfg["hidden_size"] // H
    W = {k: v.to(torch.float64) for k, v in w.items()}
    T = len(ids)
    x = W["model.embed_tokens.weight"][torch.tensor(ids)]
    inv, lin = inv_freqs(cfg, hd)
    pos = torch.arange(T, dtype=torch.float64) / lin
    freqs = torch.outer(pos, inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]  # [T, 1, hd]
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = h @ W[p + "self_attn.q_proj.weight"].T
        k = h @ W[p + "self_attn.k_proj.weight"].T
        v = h @ W[p + "self_attn.v_proj.weight"].T
        if p + "self_attn.q_proj.bias" in W:
            q = q + W[p + "self_attn.q_proj.bias"]
            k = k + W[p + "self_attn.k_proj.bias"]
            v = v + W[p + "self_attn.v_proj.bias"]
        q, k, v = q.view(T, H, hd), k.view(T, KV, hd), v.view(T, KV, hd)
        if p + "self_attn.q_norm.weight" in W:
            q = rms_norm(q, W[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, W[p + "self_attn.k_norm.weight"], eps)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)  # repeat_kv: head h reads kv head h // (H/KV)
        v = v.repeat_interleave(H // KV, dim=1)
        att = torch.einsum("thd,shd->hts", q, k) / math.sqrt(hd) + mask
        att = att.softmax(-1)
        o = torch.einsum("hts,shd->thd", att, v).reshape(T, H * hd)
        x = x + o @ W[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = h @ W[p + "mlp.gate_proj.weight"].T
        u = h @ W[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ W[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return (x @ head.T).to(torch.float32)


# ---- files ----

def raw_bytes(t):
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors, dtype):
    """tensors: name -> torch tensor, all stored as dtype (F32, F16, BF16)."""
    safetensors_io.write_safetensors(
        path, {n: (dtype, list(t.shape), raw_bytes(t.contiguous())) for n, t in tensors.items()})


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
    for seed, (name, mt, dtype, d, extra, shards) in enumerate(CASES):
        gen = torch.Generator().manual_seed(1234 + seed)
        cfg = {
            "architectures": [{"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM",
                               "qwen3": "Qwen3ForCausalLM"}[mt]],
            "model_type": mt, "vocab_size": VOCAB, "hidden_size": HIDDEN, "intermediate_size": INTER,
            "num_hidden_layers": LAYERS, "num_attention_heads": d["heads"],
            "num_key_value_heads": d["kv"], "head_dim": d["head_dim"],
            "rms_norm_eps": 1e-6 if mt != "llama" else 1e-5,
            "rope_theta": 1e6 if mt != "llama" else 10000.0,
            "max_position_embeddings": 2048, "hidden_act": "silu",
            "torch_dtype": {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype],
        }
        cfg.update(extra)
        if mt == "llama" and d["head_dim"] == HIDDEN // d["heads"]:
            del cfg["head_dim"]  # as older llama configs: derived from hidden_size / heads
        w = make_weights(mt, d, cfg["tie_word_embeddings"], gen, dtype)
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        for f in os.listdir(folder):
            if f.endswith(".safetensors") or f.endswith(".index.json"):
                os.remove(os.path.join(folder, f))
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        if shards == 1:
            write_safetensors(os.path.join(folder, "model.safetensors"), w, dtype)
        else:
            names = sorted(w)
            parts = [names[: len(names) // 2], names[len(names) // 2:]]
            weight_map = {}
            for i, part in enumerate(parts):
                fn = f"model-{i + 1:05d}-of-{len(parts):05d}.safetensors"
                write_safetensors(os.path.join(folder, fn), {n: w[n] for n in part}, dtype)
                weight_map.update({n: fn for n in part})
            with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
                json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=2)
        with open(os.path.join(folder, "prompt.json"), "w") as f:
            json.dump({"ids": PROMPT}, f)
        logits = forward(cfg, w, PROMPT)
        with open(os.path.join(folder, "torch.logits.f32"), "wb") as f:
            f.write(logits.numpy().astype("<f4").tobytes())
        print(f"{folder}: {mt} {dtype}, logits {tuple(logits.shape)}, max |logit| {logits.abs().max():.3f}")


DEMO_PROMPT = "def main():\n    for i in range(10):\n        print(i)\n"


def demo_refs(out):
    """The committed demo models (data/demo/teacher, student; data/demo/train.py) on DEMO_PROMPT,
    encoded with the demo tokenizer after <|endoftext|> (their BOS): demo-prompt.json and
    demo-NAME.torch.logits.f32 in OUT. Skipped for a model that is not there."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path.insert(0, os.path.join(root, "data", "demo"))
    import bpe  # noqa: E402  (the demo tokenizer's Python encoder, ids identical to coldtok's)
    from train import load_safetensors  # noqa: E402
    enc = bpe.Encoder(os.path.join(root, "data", "demo", "tokenizer.json"))
    ids = [enc.added["<|endoftext|>"]] + enc.encode(DEMO_PROMPT)
    with open(os.path.join(out, "demo-prompt.json"), "w") as f:
        json.dump({"text": DEMO_PROMPT, "ids": ids}, f)
    for name in ("teacher", "student"):
        folder = os.path.join(root, "data", "demo", name)
        if not os.path.exists(os.path.join(folder, "model.safetensors")):
            print(f"{folder}: absent, skipped")
            continue
        cfg = json.load(open(os.path.join(folder, "config.json")))
        w = load_safetensors(os.path.join(folder, "model.safetensors"))
        logits = forward(cfg, w, ids)
        with open(os.path.join(out, f"demo-{name}.torch.logits.f32"), "wb") as f:
            f.write(logits.numpy().astype("<f4").tobytes())
        print(f"demo {name}: logits {tuple(logits.shape)}, max |logit| {logits.abs().max():.3f}")


if __name__ == "__main__":
    main()
    demo_refs(sys.argv[1] if len(sys.argv) > 1 else "tests/data")
