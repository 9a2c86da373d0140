#!/usr/bin/python3
"""Small seeded DeepSeek-V2 (model_type deepseek_v2) folders and their logits from a float64
PyTorch forward pass of multi-head latent attention (MLA) with dense FFNs.

Writes, under OUT (default tests/data), one folder per case:
  mla-hf-f32        q_proj direct (q_lora_rank null, as DeepSeek-V2-Lite / DeepSeek-Coder-V2-Lite)
  mla-hf-qlora-f32  low-rank q: q_a_proj, q_a_layernorm, q_b_proj (as DeepSeek-V2)
  mla-hf-moe-f32    3 layers: layer 0 dense, then DeepseekV2MoE (8 routed experts, 3 used, 2 shared),
                    routed_scaling_factor 1.5 (norm_topk_prob false, as DeepSeek-Coder-V2-Lite)
  mla-hf-moe-norm-f32  the same with low-rank q and norm_topk_prob true (scale 1)
  mla-hf-yarn-f32   dense, rope_scaling yarn as DeepSeek-Coder-V2-Lite's (mscale = mscale_all_dim
                    0.707) with factor 4 over an original context of 64
each holding config.json, model.safetensors, prompt.json ({"ids": [...]}) and torch.logits.f32
(float32 little-endian [n_pos][vocab]: the logits at every prompt position).

The forward pass is written from DeepSeek's modeling_deepseek.py (DeepseekV2Attention,
DeepseekV2RMSNorm, DeepseekV2RotaryEmbedding, apply_rotary_pos_emb, DeepseekV2MLP), which
transformers' modeling_deepseek_v2.py follows; transformers itself is not used:
  q = q_proj(h) or q_b_proj(q_a_layernorm(q_a_proj(h))), split per head into q_nope, q_pe
  compressed_kv, k_pe = split(kv_a_proj_with_mqa(h), [kv_lora_rank, qk_rope_head_dim])
  k_nope, v = split(kv_b_proj(kv_a_layernorm(compressed_kv)) per head, [qk_nope_head_dim, v_head_dim])
  RoPE on q_pe and k_pe (k_pe one head, shared): apply_rotary_pos_emb first de-interleaves the
  dims (view(d/2, 2).transpose) and then rotates halves, i.e. it rotates adjacent pairs
  q = cat(q_nope, q_pe), k = cat(k_nope, k_pe); softmax(q k^T * q_head_dim^-0.5 + causal mask) v
  o_proj, residual; post_attention_layernorm, down(silu(gate) * up), residual.
Layers from first_k_dense_replace on are DeepseekV2MoE when n_routed_experts is set (else every
layer is DeepseekV2MLP): MoEGate's logits x . gate^T, softmax over the experts, the top
num_experts_per_tok ("greedy"), their weights divided by their sum (+1e-20) when norm_topk_prob,
else multiplied by routed_scaling_factor; out = sum of weight * expert(x) (each a DeepseekV2MLP of
moe_intermediate_size) plus shared_experts(x) (one DeepseekV2MLP moe_intermediate_size *
n_shared_experts wide).
q_a_layernorm and kv_a_layernorm are DeepseekV2RMSNorm(rank) with its default eps 1e-6; the
configs here set rms_norm_eps 1e-6 too, the value llama.cpp uses for all of its norms.
YaRN (DeepseekV2YarnRotaryEmbedding): the inverse frequencies blend freq / factor and freq by a
linear ramp between the correction dims of beta_fast and beta_slow rotations over the original
context (floor / ceil, clamped), cos and sin times yarn_get_mscale(factor, mscale) /
yarn_get_mscale(factor, mscale_all_dim), and softmax_scale times yarn_get_mscale(factor,
mscale_all_dim)^2. The safetensors file is written by torch_ref.py's writer.

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/mla_ref.py [OUT]
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import write_safetensors  # noqa: E402

VOCAB, HIDDEN, INTER, LAYERS = 128, 64, 96, 2
H, NOPE, ROPE, VDIM, KV_LORA = 4, 16, 8, 12, 32
PROMPT = [1, 17, 42, 99, 5, 63, 120, 7, 33, 64, 2, 88, 101, 9, 45, 77, 13, 127, 0, 56]
CASES = [  # name, q_lora_rank, MoE (None: dense): (experts, used, width, shared, dense lead, norm, scale)
    ("mla-hf-f32", None, None),
    ("mla-hf-qlora-f32", 24, None),
    ("mla-hf-moe-f32", None, (8, 3, 16, 2, 1, False, 1.5)),
    ("mla-hf-moe-norm-f32", 24, (8, 3, 16, 2, 1, True, 1.0)),
    ("mla-hf-yarn-f32", None, None),
]
YARN = {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64, "beta_fast": 32,
        "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707}


def make_weights(q_lora, moe, layers, gen):
    qhd = NOPE + ROPE
    w = {}

    def mat(rows, cols, std=0.1):
        return torch.randn(rows, cols, generator=gen, dtype=torch.float32) * std

    def vec(n, mean=1.0, std=0.1):
        return mean + torch.randn(n, generator=gen, dtype=torch.float32) * std

    w["model.embed_tokens.weight"] = mat(VOCAB, HIDDEN, 0.5)
    for l in range(layers):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = vec(HIDDEN)
        if q_lora:
            w[p + "self_attn.q_a_proj.weight"] = mat(q_lora, HIDDEN)
            w[p + "self_attn.q_a_layernorm.weight"] = vec(q_lora)
            w[p + "self_attn.q_b_proj.weight"] = mat(H * qhd, q_lora, 0.2)
        else:
            w[p + "self_attn.q_proj.weight"] = mat(H * qhd, HIDDEN)
        w[p + "self_attn.kv_a_proj_with_mqa.weight"] = mat(KV_LORA + ROPE, HIDDEN)
        w[p + "self_attn.kv_a_layernorm.weight"] = vec(KV_LORA)
        w[p + "self_attn.kv_b_proj.weight"] = mat(H * (NOPE + VDIM), KV_LORA, 0.2)
        w[p + "self_attn.o_proj.weight"] = mat(HIDDEN, H * VDIM)
        w[p + "post_attention_layernorm.weight"] = vec(HIDDEN)
        if moe and l >= moe[4]:
            X, _, F, S = moe[:4]
            w[p + "mlp.gate.weight"] = mat(X, HIDDEN, 0.5)
            for e in range(X):
                w[p + f"mlp.experts.{e}.gate_proj.weight"] = mat(F, HIDDEN, 0.2)
                w[p + f"mlp.experts.{e}.up_proj.weight"] = mat(F, HIDDEN, 0.2)
                w[p + f"mlp.experts.{e}.down_proj.weight"] = mat(HIDDEN, F, 0.2)
            w[p + "mlp.shared_experts.gate_proj.weight"] = mat(F * S, HIDDEN)
            w[p + "mlp.shared_experts.up_proj.weight"] = mat(F * S, HIDDEN)
            w[p + "mlp.shared_experts.down_proj.weight"] = mat(HIDDEN, F * S)
            continue
        w[p + "mlp.gate_proj.weight"] = mat(INTER, HIDDEN)
        w[p + "mlp.up_proj.weight"] = mat(INTER, HIDDEN)
        w[p + "mlp.down_proj.weight"] = mat(HIDDEN, INTER)
    w["model.norm.weight"] = vec(HIDDEN)
    w["lm_head.weight"] = mat(VOCAB, HIDDEN, 0.15)
    return w


# ---- the forward pass (float64) ----

def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def apply_rope(x, cos, sin):
    """modeling_deepseek.apply_rotary_pos_emb on x [T, heads, d]: de-interleave, rotate halves."""
    T, n, d = x.shape
    x = x.view(T, n, d // 2, 2).transpose(3, 2).reshape(T, n, d)
    return x * cos + rotate_half(x) * sin


def mlp(W, p, h):
    """DeepseekV2MLP: down(silu(gate h) * up h)."""
    g, u = h @ W[p + "gate_proj.weight"].T, h @ W[p + "up_proj.weight"].T
    return (torch.nn.functional.silu(g) * u) @ W[p + "down_proj.weight"].T


def moe(cfg, W, m, h):
    """DeepseekV2MoE with MoEGate (softmax scoring, greedy top-k) and the shared experts."""
    scores = (h @ W[m + "gate.weight"].T).softmax(-1)
    k = cfg["num_experts_per_tok"]
    weight, idx = torch.topk(scores, k=k, dim=-1, sorted=False)
    if k > 1 and cfg["norm_topk_prob"]:
        weight = weight / (weight.sum(-1, keepdim=True) + 1e-20)
    else:
        weight = weight * cfg["routed_scaling_factor"]
    out = torch.zeros_like(h)
    for t in range(h.shape[0]):
        for j in range(k):
            out[t] += weight[t, j] * mlp(W, m + f"experts.{int(idx[t, j])}.", h[t:t + 1])[0]
    return out + mlp(W, m + "shared_experts.", h)


def yarn_get_mscale(scale, mscale):
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def yarn_inv_freq(rs, dim, base):
    """DeepseekV2YarnRotaryEmbedding's inverse frequencies."""
    def corr_dim(rot):
        return dim * math.log(rs["original_max_position_embeddings"] / (rot * 2 * math.pi)) / (2 * math.log(base))
    low = max(math.floor(corr_dim(rs.get("beta_fast", 32))), 0)
    high = min(math.ceil(corr_dim(rs.get("beta_slow", 1))), dim - 1)
    if low == high:
        high += 0.001
    ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
    mask = 1.0 - ramp
    pw = base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    extra, inter = 1.0 / pw, 1.0 / (rs["factor"] * pw)
    return inter * (1 - mask) + extra * mask


def forward(cfg, w, ids):
    eps = cfg["rms_norm_eps"]
    nope, rope, vdim, R = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"], cfg["kv_lora_rank"]
    qhd, nh = nope + rope, cfg["num_attention_heads"]
    W = {k: v.to(torch.float64) for k, v in w.items()}
    T = len(ids)
    x = W["model.embed_tokens.weight"][torch.tensor(ids)]
    # DeepseekV2RotaryEmbedding(qk_rope_head_dim, base=rope_theta)
    rs = cfg.get("rope_scaling")
    scale, mag = qhd ** -0.5, 1.0  # softmax_scale; the magnitude of cos and sin
    if rs:  # DeepseekV2YarnRotaryEmbedding
        inv = yarn_inv_freq(rs, rope, cfg["rope_theta"])
        mag = yarn_get_mscale(rs["factor"], rs.get("mscale", 1)) / yarn_get_mscale(rs["factor"], rs.get("mscale_all_dim", 0))
        if rs.get("mscale_all_dim"):
            scale *= yarn_get_mscale(rs["factor"], rs["mscale_all_dim"]) ** 2
    else:
        inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, rope, 2, dtype=torch.float64) / rope))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None, :] * mag, emb.sin()[:, None, :] * mag  # [T, 1, rope]
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}.self_attn."
        h = rms_norm(x, W[f"model.layers.{l}.input_layernorm.weight"], eps)
        if cfg["q_lora_rank"] is None:
            q = h @ W[p + "q_proj.weight"].T
        else:
            q = rms_norm(h @ W[p + "q_a_proj.weight"].T, W[p + "q_a_layernorm.weight"], 1e-6) @ W[p + "q_b_proj.weight"].T
        q = q.view(T, nh, qhd)
        q_nope, q_pe = q[..., :nope], q[..., nope:]
        ckv = h @ W[p + "kv_a_proj_with_mqa.weight"].T
        ckv, k_pe = ckv[:, :R], ckv[:, R:].reshape(T, 1, rope)
        kv = (rms_norm(ckv, W[p + "kv_a_layernorm.weight"], 1e-6) @ W[p + "kv_b_proj.weight"].T).view(T, nh, nope + vdim)
        k_nope, v = kv[..., :nope], kv[..., nope:]
        q_pe, k_pe = apply_rope(q_pe, cos, sin), apply_rope(k_pe, cos, sin)
        qs = torch.cat((q_nope, q_pe), dim=-1)
        ks = torch.cat((k_nope, k_pe.expand(T, nh, rope)), dim=-1)
        att = (torch.einsum("thd,shd->hts", qs, ks) * scale + mask).softmax(-1)
        o = torch.einsum("hts,shd->thd", att, v).reshape(T, nh * vdim)
        x = x + o @ W[p + "o_proj.weight"].T
        m = f"model.layers.{l}.mlp."
        h = rms_norm(x, W[f"model.layers.{l}.post_attention_layernorm.weight"], eps)
        if m + "gate.weight" in W:
            x = x + moe(cfg, W, m, h)
            continue
        x = x + mlp(W, m, h)
    x = rms_norm(x, W["model.norm.weight"], eps)
    return (x @ W["lm_head.weight"].T).to(torch.float32)



def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
    for seed, (name, q_lora, moe) in enumerate(CASES):
        layers = LAYERS + (1 if moe else 0)
        gen = torch.Generator().manual_seed(4321 + seed)
        cfg = {
            "architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2",
            "vocab_size": VOCAB, "hidden_size": HIDDEN, "intermediate_size": INTER,
            "moe_intermediate_size": moe[2] if moe else INTER, "num_hidden_layers": layers,
            "num_attention_heads": H, "num_key_value_heads": H,
            "q_lora_rank": q_lora, "kv_lora_rank": KV_LORA, "qk_nope_head_dim": NOPE,
            "qk_rope_head_dim": ROPE, "v_head_dim": VDIM,
            "n_routed_experts": moe[0] if moe else None, "num_experts_per_tok": moe[1] if moe else None,
            "n_shared_experts": moe[3] if moe else None, "first_k_dense_replace": moe[4] if moe else 0,
            "norm_topk_prob": moe[5] if moe else False, "routed_scaling_factor": moe[6] if moe else 1.0,
            "moe_layer_freq": 1, "topk_method": "greedy", "scoring_func": "softmax",
            "n_group": 1, "topk_group": 1,
            "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
            "rope_scaling": YARN if name.endswith("yarn-f32") else None,
            "attention_bias": False, "max_position_embeddings": 2048, "hidden_act": "silu",
            "tie_word_embeddings": False, "torch_dtype": "float32",
        }
        w = make_weights(q_lora, moe, layers, gen)
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        write_safetensors(os.path.join(folder, "model.safetensors"), w, "F32")
        with open(os.path.join(folder, "prompt.json"), "w") as f:
            json.dump({"ids": PROMPT}, f)
        logits = forward(cfg, w, PROMPT)
        with open(os.path.join(folder, "torch.logits.f32"), "wb") as f:
            f.write(logits.contiguous().numpy().astype("<f4").tobytes())
        print(f"{folder}: {len(PROMPT)} positions, max |logit| {logits.abs().max().item():.3f}")


if __name__ == "__main__":
    main()
