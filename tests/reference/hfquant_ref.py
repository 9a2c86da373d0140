#!/usr/bin/python3
"""Tiny GPTQ and AWQ checkpoints packed from tests/data/hf-llama-f32, each with its dequantized twin.

For each case below, writes under OUT (default tests/data):
  hf-llama-CASE/          config.json with the case's quantization_config; model.safetensors with
                          the layers' linears packed (qweight, qzeros, scales, g_idx) and every
                          other tensor (embeddings, norms, lm_head, exempt linears) as in the source
  hf-llama-CASE-deq/      the same model with each packed linear dequantized to F32 (.weight) —
                          the plain checkpoint the packed one must compute exactly like

The packer is ours, written from the format definitions (docs/formats.md "Hugging Face quantized
checkpoints"): round-to-nearest min-max quantization per group (the values only have to be
representable, not good), then
  GPTQ (AutoGPTQ / GPTQModel): qweight int32 [in*bits/32, out], the `bits`-wide integers of each
    output column as one little-endian bit stream along the input dim (3-bit values straddle
    words); qzeros int32 [groups, out*bits/32], the zero points of a group as one bit stream along
    out, stored minus one in checkpoint_format gptq (v1) and as is in gptq_v2; scales f16
    [groups, out]; g_idx int32 [in] (the group of each input; a permutation of them with desc_act).
  AWQ (AutoAWQ GEMM): qweight int32 [in, out/8], outputs 8c..8c+7 in word c in the nibble order
    0, 2, 4, 6, 1, 3, 5, 7; qzeros int32 [groups, out/8] likewise; scales f16 [groups, out].
  AWQ (AutoAWQ GEMV, version gemv; hfquant-awq-* folders, AWQ_CASES): qweight int32 [out, in/8],
    inputs 8c..8c+7 of output o in word c in nibble order 0..7; qzeros int32 [out, W] with
    W = calculate_zeros_width(in, group_size) (groups 8k..8k+7 in word k, the rest zero);
    scales f16 [out, 8W] (group g in column g, the rest zero) — WQLinear_GEMV.from_linear.
  AWQ zero_point false (gemm or gemv): AutoAWQ's symmetric quantizer (scale = max |w| / 7, codes
    -8..7), stored as code + 8 (zero point 8) and no qzeros tensor.
  weight[o][i] = scale[g][o] * (q[i][o] - zero[g][o]), g = g_idx[i] (GPTQ) or i // group_size,
computed in float64 from the f16 scale (exact in float32 as well: an 11-bit scale times a small
integer) and stored as float32.

Standard library only (struct, json, random): Debian's python3-torch / python3-numpy are not
needed, and safetensors files are written by hand (safetensors_io.py, as torch_ref.py does).
Run:  /usr/bin/python3 tests/reference/hfquant_ref.py [OUT]   (make references)
"""
import json
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import write_safetensors  # noqa: E402

SRC = "hf-llama-f32"
LINEARS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]

# name, quantization_config, exempt linears (left plain and listed in modules_to_not_convert)
CASES = [
    ("gptq4", {"quant_method": "gptq", "bits": 4, "group_size": 32, "desc_act": True, "sym": False,
               "checkpoint_format": "gptq"}, ["model.layers.1.mlp.down_proj"]),
    ("gptq3", {"quant_method": "gptq", "bits": 3, "group_size": -1, "desc_act": False, "sym": True,
               "checkpoint_format": "gptq_v2"}, []),
    ("gptq8", {"quant_method": "gptq", "bits": 8, "group_size": 64, "desc_act": False, "sym": True,
               "checkpoint_format": "gptq"}, []),
    ("gptq2", {"quant_method": "gptq", "bits": 2, "group_size": 32, "desc_act": False, "sym": False,
               "checkpoint_format": "gptq_v2"}, []),
    ("awq4", {"quant_method": "awq", "bits": 4, "group_size": 32, "zero_point": True, "version": "gemm"}, []),
]
AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]  # nibble p of a word holds output 8c + AWQ_ORDER[p]

# AutoAWQ GEMV and zero_point false, written as tests/data/hfquant-awq-CASE (tests/cli_hfquant_awq.sh).
# Group 64 does not divide down_proj's 96 inputs: left plain. No linear of the tiny model has a
# multiple of 128 inputs, so group 128 is covered by the single layers of write_awq_layers.
AWQ_CASES = [
    ("gemv32", {"quant_method": "awq", "bits": 4, "group_size": 32, "zero_point": True, "version": "gemv"}, []),
    ("gemv64", {"quant_method": "awq", "bits": 4, "group_size": 64, "zero_point": True, "version": "gemv"},
     ["model.layers.0.mlp.down_proj", "model.layers.1.mlp.down_proj"]),
    ("gemvsym", {"quant_method": "awq", "bits": 4, "group_size": 32, "zero_point": False, "version": "gemv"}, []),
    ("gemmsym", {"quant_method": "awq", "bits": 4, "group_size": 32, "zero_point": False, "version": "gemm"}, []),
]


def calculate_zeros_width(in_f, group_size):
    """AutoAWQ's: words of zero points per output, ceil(groups / 8) rounded up to 4 (group 32) or 2 (64)."""
    mult = 1 if group_size >= 128 else {64: 2, 32: 4}[group_size]
    words = (in_f // group_size + 7) // 8
    return (words + mult - 1) // mult * mult


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", name
        b, end = e["data_offsets"]
        vals = list(struct.unpack("<%df" % ((end - b) // 4), data[b:end]))
        out[name] = (e["shape"], vals)
    return out



def f16(x):
    return struct.unpack("<e", struct.pack("<e", x))[0]


def f32_bytes(vals):
    return struct.pack("<%df" % len(vals), *vals)


def i32_bytes(vals):
    return struct.pack("<%di" % len(vals), *[v - (1 << 32) if v >= 1 << 31 else v for v in vals])


def pack_stream(values, bits):
    """The values (each < 2**bits) as one little-endian bit stream cut into 32-bit words."""
    acc = 0
    for j, v in enumerate(values):
        acc |= v << (bits * j)
    n_words = len(values) * bits // 32
    return [(acc >> (32 * k)) & 0xFFFFFFFF for k in range(n_words)]


def quantize(W, out_f, in_f, cfg, rng):
    """Integer codes, scales, zeros and g_idx of W [out][in] (rows of floats)."""
    bits, maxq = cfg["bits"], (1 << cfg["bits"]) - 1
    gs = cfg["group_size"] if cfg["group_size"] > 0 else in_f
    G = (in_f + gs - 1) // gs
    if cfg.get("desc_act"):
        perm = list(range(in_f))
        rng.shuffle(perm)  # the activation order: input perm[j] is quantized j-th
        g_idx = [0] * in_f
        for j, i in enumerate(perm):
            g_idx[i] = j // gs
    else:
        g_idx = [i // gs for i in range(in_f)]
    members = [[i for i in range(in_f) if g_idx[i] == g] for g in range(G)]
    v1 = cfg["quant_method"] == "gptq" and cfg.get("checkpoint_format", "gptq") == "gptq"
    sym = cfg.get("sym", False) and cfg["quant_method"] == "gptq"
    awq_sym = cfg["quant_method"] == "awq" and cfg.get("zero_point", True) is False
    q = [[0] * in_f for _ in range(out_f)]
    scale = [[0.0] * out_f for _ in range(G)]
    zero = [[0] * out_f for _ in range(G)]
    for o in range(out_f):
        for g in range(G):
            xs = [W[o][i] for i in members[g]]
            lo, hi = min(min(xs), 0.0), max(max(xs), 0.0)
            if awq_sym:  # AutoAWQ pseudo_quantize_tensor without zero point: codes -8..7, stored + 8
                z = (maxq + 1) // 2
                s = f16(max(max(-lo, hi) / (z - 1), 1e-4))
            elif sym:
                z = (maxq + 1) // 2
                s = f16(max(-lo / z, hi / (maxq - z), 1e-4))
            else:
                s = f16(max((hi - lo) / maxq, 1e-4))
                z = min(max(round(-lo / s), 0), maxq)
                if v1:
                    z = max(z, 1)  # v1 stores zero - 1 and reads (stored & maxq) + 1: 0 cannot be stored
            scale[g][o], zero[g][o] = s, z
            for i in members[g]:
                q[o][i] = min(max(round(W[o][i] / s) + z, 0), maxq)
    return q, scale, zero, g_idx, G, v1


def pack(name, W, out_f, in_f, cfg, rng):
    """The packed tensors of one linear and its dequantized weight [out][in] (flat)."""
    q, scale, zero, g_idx, G, v1 = quantize(W, out_f, in_f, cfg, rng)
    bits = cfg["bits"]
    deq = [scale[g_idx[i]][o] * (q[o][i] - zero[g_idx[i]][o]) for o in range(out_f) for i in range(in_f)]
    scales_b = struct.pack("<%de" % (G * out_f), *[scale[g][o] for g in range(G) for o in range(out_f)])
    t = {}
    awq_sym = cfg["quant_method"] == "awq" and cfg.get("zero_point", True) is False
    if cfg.get("version") == "gemv":
        gs = cfg["group_size"]
        W = calculate_zeros_width(in_f, gs)
        qweight = [sum(q[o][8 * c + j] << (4 * j) for j in range(8)) for o in range(out_f) for c in range(in_f // 8)]
        zcols = [[zero[g][o] for g in range(G)] + [0] * (8 * W - G) for o in range(out_f)]
        qzeros = [sum(zcols[o][8 * k + j] << (4 * j) for j in range(8)) for o in range(out_f) for k in range(W)]
        scols = [scale[g][o] if g < G else 0.0 for o in range(out_f) for g in range(8 * W)]
        t[name + ".qweight"] = ("I32", [out_f, in_f // 8], i32_bytes(qweight))
        if not awq_sym:
            t[name + ".qzeros"] = ("I32", [out_f, W], i32_bytes(qzeros))
        t[name + ".scales"] = ("F16", [out_f, 8 * W], struct.pack("<%de" % len(scols), *scols))
        return t, deq
    if cfg["quant_method"] == "gptq":
        words_in = in_f * bits // 32
        cols = [pack_stream([q[o][i] for i in range(in_f)], bits) for o in range(out_f)]
        qweight = [cols[o][k] for k in range(words_in) for o in range(out_f)]
        stored = [[(zero[g][o] - 1) & ((1 << bits) - 1) if v1 else zero[g][o] for o in range(out_f)] for g in range(G)]
        qzeros = [w for g in range(G) for w in pack_stream(stored[g], bits)]
        t[name + ".qweight"] = ("I32", [words_in, out_f], i32_bytes(qweight))
        t[name + ".qzeros"] = ("I32", [G, out_f * bits // 32], i32_bytes(qzeros))
        t[name + ".g_idx"] = ("I32", [in_f], i32_bytes(g_idx))
    else:
        def awq_words(vals):  # vals[o] for o < out_f -> out_f/8 words
            ws = []
            for c in range(out_f // 8):
                w = 0
                for p in range(8):
                    w |= vals[8 * c + AWQ_ORDER[p]] << (4 * p)
                ws.append(w)
            return ws
        qweight = [w for i in range(in_f) for w in awq_words([q[o][i] for o in range(out_f)])]
        qzeros = [w for g in range(G) for w in awq_words(zero[g])]
        t[name + ".qweight"] = ("I32", [in_f, out_f // 8], i32_bytes(qweight))
        if not awq_sym:
            t[name + ".qzeros"] = ("I32", [G, out_f // 8], i32_bytes(qzeros))
    t[name + ".scales"] = ("F16", [G, out_f], scales_b)
    return t, deq


# single AWQ layers [16, 256] for tests/test_hfquant_awq.c: the group sizes the tiny model cannot
# hold (128) and the zero-point padding (group 32: 8 groups, 1 word padded to 4; group 64: 4 groups,
# 1 word padded to 2); NAME.qweight/.qzeros/.scales as packed and NAME.deq [16, 256] F32
AWQ_LAYERS = [("gemv32", 32, "gemv", True), ("gemv64", 64, "gemv", True), ("gemv128", 128, "gemv", True),
              ("gemv128sym", 128, "gemv", False), ("gemm128sym", 128, "gemm", False)]


def write_awq_layers(out):
    rng = random.Random("awq-layers")
    out_f, in_f = 16, 256
    ts = {}
    for name, gs, ver, zp in AWQ_LAYERS:
        W = [[rng.uniform(-1.0, 1.0) for _ in range(in_f)] for _ in range(out_f)]
        cfg = {"quant_method": "awq", "bits": 4, "group_size": gs, "zero_point": zp, "version": ver}
        t, deq = pack(name, W, out_f, in_f, cfg, rng)
        ts.update(t)
        ts[name + ".deq"] = ("F32", [out_f, in_f], f32_bytes(deq))
    d = os.path.join(out, "hfquant-awq-layers")
    os.makedirs(d, exist_ok=True)
    write_safetensors(os.path.join(d, "layers.safetensors"), ts)
    print("wrote awq layers")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
    src = os.path.join(out, SRC)
    tensors = read_safetensors(os.path.join(src, "model.safetensors"))
    with open(os.path.join(src, "config.json")) as f:
        config = json.load(f)
    for prefix, cases in (("hf-llama-", CASES), ("hfquant-awq-", AWQ_CASES)):
        for case, qcfg, exempt in cases:
            write_case(out, prefix + case, tensors, config, case, qcfg, exempt)
    write_awq_layers(out)


def write_case(out, base, tensors, config, case, qcfg, exempt):
    """base/ (packed) and base-deq/ (its dequantized F32 twin) for one case."""
    rng = random.Random(case)
    packed, plain = {}, {}
    for name, (shape, vals) in tensors.items():
        prefix = name[: -len(".weight")] if name.endswith(".weight") else None
        is_linear = prefix and any(prefix.endswith(l) for l in LINEARS) and ".layers." in prefix
        if not is_linear or prefix in exempt:
            packed[name] = plain[name] = ("F32", shape, f32_bytes(vals))
            continue
        out_f, in_f = shape
        W = [vals[o * in_f:(o + 1) * in_f] for o in range(out_f)]
        t, deq = pack(prefix, W, out_f, in_f, qcfg, rng)
        packed.update(t)
        plain[name] = ("F32", shape, f32_bytes(deq))
    q = dict(qcfg)
    if exempt:
        q["modules_to_not_convert"] = exempt
    for folder, ts, qc in ((base, packed, q), (base + "-deq", plain, None)):
        d = os.path.join(out, folder)
        os.makedirs(d, exist_ok=True)
        c = dict(config)
        if qc:
            c["quantization_config"] = qc
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=2)
            f.write("\n")
        write_safetensors(os.path.join(d, "model.safetensors"), ts)
    print("wrote", case)


if __name__ == "__main__":
    main()
