#!/usr/bin/python3
"""Small seeded mixture-of-experts Hugging Face folders (qwen2_moe, qwen3_moe) and their logits
from a float64 PyTorch forward pass.

Writes, under OUT (default tests/data), one folder per case:
  moe-qwen2moe-f32   Qwen2-MoE: q/k/v biases, 8 routed experts, top 2, norm_topk_prob false (as
                     llama.cpp's qwen2moe graph), a shared expert with its sigmoid gate
  moe-qwen3moe-f32   Qwen3-MoE: per-head q/k RMSNorm, 8 routed experts, top 4, norm_topk_prob true
each holding config.json, model.safetensors, prompt.json ({"ids": [...]}, 20 tokens) and
torch.logits.f32 (float32 little-endian [n_pos][vocab], the logits at every prompt position);
and one folder without logits:
  moe-qwen3moe-ties-f32  32 experts, top 6, whose router rows are 4 distinct rows each repeated 8
                     times (row e = row e mod 4): every position's probabilities come in 4 groups of
                     8 exactly equal values, so the top 6 is decided by how the sort orders ties.
                     transformers' torch.topk and llama.cpp's std::sort order them differently;
                     the test compares coldtok with llama.cpp itself on it (no torch logits).

The forward pass is written from transformers' modeling_qwen2_moe.py / modeling_qwen3_moe.py
(transformers itself is not used): the attention of modeling_qwen2 / qwen3 (torch_ref.py's pieces:
RMSNorm, rotate_half RoPE, GQA) and the sparse MoE block:
    router_logits = x W_gate^T; routing_weights = softmax(router_logits) (float);
    routing_weights, selected = topk(routing_weights, top_k);
    if norm_topk_prob: routing_weights /= routing_weights.sum(-1);
    out = sum_k routing_weights[k] * expert_selected[k](x),   expert(x) = down(silu(gate x) * up x);
    qwen2_moe: out += sigmoid(x W_shared_gate^T) * shared_expert(x).
It runs in float64 on the stored weights. The router weights are large enough that the routing is
decisive: the script checks that, at every position and layer, the k-th and (k+1)-th
probabilities differ by more than 1e-4 (so float32 and float64 pick the same experts) and says so.

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/moe_ref.py [OUT]
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import inv_freqs, rms_norm, rotate_half, write_safetensors  # noqa: E402

VOCAB, HIDDEN, INTER, LAYERS = 160, 64, 96, 2
PROMPT = [1, 17, 42, 99, 5, 63, 120, 7, 33, 64, 150, 2, 88, 19, 140, 71, 3, 96, 111, 54]

CASES = [
    # name, model_type, heads, kv heads, head_dim, experts, top k, expert ff, shared ff, norm_topk
    ("moe-qwen2moe-f32", "qwen2_moe", 4, 2, 16, 8, 2, 32, 64, False),
    ("moe-qwen3moe-f32", "qwen3_moe", 4, 2, 32, 8, 4, 32, 0, True),
]


def make_weights(mt, H, KV, hd, X, FE, FS, gen):
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
        if mt == "qwen2_moe":
            w[p + "self_attn.q_proj.bias"] = vec(H * hd, 0.0, 0.2)
            w[p + "self_attn.k_proj.bias"] = vec(KV * hd, 0.0, 0.2)
            w[p + "self_attn.v_proj.bias"] = vec(KV * hd, 0.0, 0.2)
        else:
            w[p + "self_attn.q_norm.weight"] = vec(hd)
            w[p + "self_attn.k_norm.weight"] = vec(hd)
        w[p + "self_attn.o_proj.weight"] = mat(HIDDEN, H * hd)
        w[p + "post_attention_layernorm.weight"] = vec(HIDDEN)
        w[p + "mlp.gate.weight"] = mat(X, HIDDEN, 0.4)  # decisive routing
        for e in range(X):
            q = f"{p}mlp.experts.{e}."
            w[q + "gate_proj.weight"] = mat(FE, HIDDEN, 0.15)
            w[q + "up_proj.weight"] = mat(FE, HIDDEN, 0.15)
            w[q + "down_proj.weight"] = mat(HIDDEN, FE, 0.15)
        if FS:
            w[p + "mlp.shared_expert.gate_proj.weight"] = mat(FS, HIDDEN)
            w[p + "mlp.shared_expert.up_proj.weight"] = mat(FS, HIDDEN)
            w[p + "mlp.shared_expert.down_proj.weight"] = mat(HIDDEN, FS)
            w[p + "mlp.shared_expert_gate.weight"] = mat(1, HIDDEN, 0.3)
    w["model.norm.weight"] = vec(HIDDEN)
    w["lm_head.weight"] = mat(VOCAB, HIDDEN, 0.1)
    return w


def sparse_moe(cfg, W, p, h, margins):
    """The sparse MoE block of modeling_qwen2_moe / modeling_qwen3_moe on h [T, hidden]."""
    k = cfg["num_experts_per_tok"]
    probs = torch.softmax(h @ W[p + "mlp.gate.weight"].T, dim=-1)
    top, sel = torch.topk(probs, k, dim=-1)
    srt = probs.sort(dim=-1, descending=True).values
    margins.append(float((srt[:, k - 1] - srt[:, k]).min()))
    if cfg["norm_topk_prob"]:
        top = top / top.sum(-1, keepdim=True)
    out = torch.zeros_like(h)
    for t in range(h.shape[0]):
        for j in range(k):
            q = f"{p}mlp.experts.{int(sel[t, j])}."
            g = h[t] @ W[q + "gate_proj.weight"].T
            u = h[t] @ W[q + "up_proj.weight"].T
            out[t] += top[t, j] * ((torch.nn.functional.silu(g) * u) @ W[q + "down_proj.weight"].T)
    if p + "mlp.shared_expert_gate.weight" in W:
        q = p + "mlp.shared_expert."
        g = h @ W[q + "gate_proj.weight"].T
        u = h @ W[q + "up_proj.weight"].T
        s = (torch.nn.functional.silu(g) * u) @ W[q + "down_proj.weight"].T
        out = out + torch.sigmoid(h @ W[p + "mlp.shared_expert_gate.weight"].T) * s
    return out


def forward(cfg, w, ids, margins):
    eps, H, KV = cfg["rms_norm_eps"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or cfg["hidden_size"] // H
    W = {k: v.to(torch.float64) for k, v in w.items()}
    T = len(ids)
    x = W["model.embed_tokens.weight"][torch.tensor(ids)]
    inv, lin = inv_freqs(cfg, hd)
    freqs = torch.outer(torch.arange(T, dtype=torch.float64) / lin, inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
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
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        att = (torch.einsum("thd,shd->hts", q, k) / math.sqrt(hd) + mask).softmax(-1)
        o = torch.einsum("hts,shd->thd", att, v).reshape(T, H * hd)
        x = x + o @ W[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        x = x + sparse_moe(cfg, W, p, h, margins)
    x = rms_norm(x, W["model.norm.weight"], eps)
    return (x @ W["lm_head.weight"].T).to(torch.float32)


def ties_case(out):
    X, k, FE = 32, 6, 32
    gen = torch.Generator().manual_seed(777)
    w = make_weights("qwen3_moe", 4, 2, 32, X, FE, 0, gen)
    for l in range(LAYERS):
        g = w[f"model.layers.{l}.mlp.gate.weight"]
        w[f"model.layers.{l}.mlp.gate.weight"] = g[torch.arange(X) % 4].clone()
    folder = os.path.join(out, "moe-qwen3moe-ties-f32")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg_of("qwen3_moe", 4, 2, 32, X, k, FE, 0, True), f, indent=2)
    write_safetensors(os.path.join(folder, "model.safetensors"), w, "F32")
    with open(os.path.join(folder, "prompt.json"), "w") as f:
        json.dump({"ids": PROMPT}, f)
    print(f"{folder}: qwen3_moe, {X} experts in 4 tied groups, top {k}")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
    ties_case(out)
    for seed, (name, mt, H, KV, hd, X, k, FE, FS, norm) in enumerate(CASES):
        for attempt in range(100):  # the first seed whose routing is decisive everywhere
            gen = torch.Generator().manual_seed(4321 + 1000 * seed + attempt)
            w = make_weights(mt, H, KV, hd, X, FE, FS, gen)
            margins = []
            logits = forward(dict(cfg_of(mt, H, KV, hd, X, k, FE, FS, norm)), w, PROMPT, margins)
            if min(margins) > 1e-4:
                break
        else:
            raise SystemExit(f"{name}: no seed without a routing near-tie")
        cfg = cfg_of(mt, H, KV, hd, X, k, FE, FS, norm)
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        write_safetensors(os.path.join(folder, "model.safetensors"), w, "F32")
        with open(os.path.join(folder, "prompt.json"), "w") as f:
            json.dump({"ids": PROMPT}, f)
        with open(os.path.join(folder, "torch.logits.f32"), "wb") as f:
            f.write(logits.numpy().astype("<f4").tobytes())
        print(f"{folder}: {mt}, seed {4321 + 1000 * seed + attempt}, logits {tuple(logits.shape)}, "
              f"max |logit| {logits.abs().max():.3f}, smallest routing margin {min(margins):.2e}")


def cfg_of(mt, H, KV, hd, X, k, FE, FS, norm):
    cfg = {
        "architectures": [{"qwen2_moe": "Qwen2MoeForCausalLM", "qwen3_moe": "Qwen3MoeForCausalLM"}[mt]],
        "model_type": mt, "vocab_size": VOCAB, "hidden_size": HIDDEN, "intermediate_size": INTER,
        "num_hidden_layers": LAYERS, "num_attention_heads": H, "num_key_value_heads": KV,
        "rms_norm_eps": 1e-6, "rope_theta": 1e6, "max_position_embeddings": 2048,
        "hidden_act": "silu", "torch_dtype": "float32", "tie_word_embeddings": False,
        "num_experts": X, "num_experts_per_tok": k, "moe_intermediate_size": FE,
        "norm_topk_prob": norm, "decoder_sparse_step": 1, "mlp_only_layers": [],
        "output_router_logits": False, "router_aux_loss_coef": 0.001,
    }
    if mt == "qwen3_moe":
        cfg["head_dim"] = hd
    else:
        cfg["shared_expert_intermediate_size"] = FS
        assert hd * H == HIDDEN  # Qwen2MoeConfig has no head_dim
    return cfg


if __name__ == "__main__":
    main()
