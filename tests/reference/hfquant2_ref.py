#!/usr/bin/python3
"""Tiny AQLM and FP8 checkpoints packed from tests/data/hf-llama-f32, each with its dequantized twin.

Like hfquant_ref.py (GPTQ / AWQ), for each case writes under OUT (default tests/data):
  hf-llama-CASE/       config.json with the case's quantization_config; model.safetensors with the
                       layers' linears packed, every other tensor (and the exempt linears) as in
                       the source
  hf-llama-CASE-deq/   the same model with each packed linear dequantized to F32 (.weight)

Our packer, written from the format definitions (docs/formats.md "Hugging Face quantized
checkpoints"); the values only have to be representable, not good:
  AQLM (the aqlm package, QuantizedLinear / _dequantize_weight): per output row a scale s (f16,
    [out, 1, 1, 1]) = max |w| of the row; the row cut into groups of 8 inputs; codes
    [out, in/8, num_codebooks] (int16 for 16-bit codebooks, int8 for 8-bit, the code c stored as
    the signed integer with the same low bits, as aqlm's pack_int_data does); codebooks f16
    [num_codebooks, 2^nbits, 1, 8].
      1x16: each group of w/s is its own codebook entry, from the top of the codebook down (so the
            stored int16 codes are negative); the unused entries are filler.
      1x8, 2x8: codebook 0 = 256 groups drawn at random, each group coded by its nearest entry;
            2x8's codebook 1 likewise on the residuals.
    w[o][8j+k] = s[o] * sum_c codebooks[c][code[o][j][c]][0][k], summed in f32 codebook by codebook
    (the first as is), then times s in f32.
  FP8 (quant_method fp8): weight float8_e4m3fn [out, in]; scale F32 (or BF16) either per block of
    weight_block_size (weight_scale_inv [ceil(out/b0), ceil(in/b1)], DeepSeek-V3's layout), per
    tensor (weight_scale, shape []) or per channel (weight_scale [out, 1]): s = max |w| / 448 over
    the block, q = the e4m3 value nearest w / s; w = f32(e4m3(q) * s).
  compressed-tensors (llm-compressor), one config group, lm_head in `ignore`:
    pack-quantized int (ctw4g: 4 bits, group 32, BF16 scales, one ignored k_proj; ctw8c: 8 bits,
    channel, F16 scales; ctw4ga: asymmetric, group 32, weight_zero_point I32 [ceil(out*4/32),
    groups] packed along the outputs, stored + 8, w = f32((q - zp) * s)), symmetric: q = round(w / s) clamped to [-2^(b-1), 2^(b-1) - 1] with
    s = max |w| / (2^(b-1) - 1) per group; weight_packed int32 [out, ceil(in * b / 32)], input i in
    bits (i % (32/b)) * b of word i / (32/b), stored as q + 2^(b-1) (pack_to_int32);
    weight_scale [out, groups]; weight_shape I64 [2]. w = f32(q * s).
    float-quantized: FP8 as above, the scale always named weight_scale (ctfp8: channel, BF16
    [out, 1]; ctfp8b: strategy block, block_structure [32, 48], F32).
  bitsandbytes: see pack_bnb4 (bnbnf4, bnbnf4dq with double quantization and one skipped o_proj,
    bnbfp4) and pack_bnb8 (bnbint8).
f32 rounding is emulated with struct (a sum of two f16 or a product of an f32 and an 11- or 4-bit
value is exact in float64, so rounding it once to f32 is what f32 arithmetic gives).

Standard library only. Run:  /usr/bin/python3 tests/reference/hfquant2_ref.py [OUT [CASE ...]]
(make references writes every committed case; aqlm1x16, 1 MiB of codebook per linear, is not
committed: tests/cli_hfquant2.sh writes it into a scratch folder.)
"""
import bisect
import json
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import write_safetensors  # noqa: E402
from hfquant_ref import read_safetensors, f16, f32_bytes, LINEARS, SRC  # noqa: E402

NOT_AQLM = ["model.embed_tokens.weight", "lm_head.weight"]


def CT(fmt, weights, acts=None):
    """A compressed-tensors (llm-compressor) quantization_config with one config group."""
    return {"quant_method": "compressed-tensors", "format": fmt, "quantization_status": "compressed",
            "config_groups": {"group_0": {"targets": ["Linear"], "weights": weights, "input_activations": acts,
                                          "output_activations": None}},
            "ignore": ["lm_head"], "kv_cache_scheme": None, "sparsity_config": {}}
# name, quantization_config, exempt linears (plain; listed where the scheme has a list)
CASES = {
    "aqlm2x8": ({"quant_method": "aqlm", "num_codebooks": 2, "nbits_per_codebook": 8, "in_group_size": 8,
                 "out_group_size": 1}, ["model.layers.1.mlp.down_proj"]),
    "aqlm1x8": ({"quant_method": "aqlm", "num_codebooks": 1, "nbits_per_codebook": 8, "in_group_size": 8,
                 "out_group_size": 1}, []),
    # every linear but layer 0's q_proj and down_proj exempt: 1 MiB of codebook each
    "aqlm1x16": ({"quant_method": "aqlm", "num_codebooks": 1, "nbits_per_codebook": 16, "in_group_size": 8,
                  "out_group_size": 1},
                 ["model.layers.%d.%s" % (l, n) for l in range(2) for n in LINEARS
                  if (l, n) not in ((0, "self_attn.q_proj"), (0, "mlp.down_proj"))]),
    "fp8block": ({"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
                  "weight_block_size": [32, 48]}, ["model.layers.0.mlp.up_proj"]),
    "fp8tensor": ({"quant_method": "fp8", "activation_scheme": "static"}, []),
    "fp8channel": ({"quant_method": "fp8"}, []),
    "ctw4g": (CT("pack-quantized", {"num_bits": 4, "type": "int", "symmetric": True, "strategy": "group",
                                    "group_size": 32}), ["model.layers.0.self_attn.k_proj"]),
    "ctw8c": (CT("pack-quantized", {"num_bits": 8, "type": "int", "symmetric": True, "strategy": "channel",
                                    "group_size": None}), []),
    "ctw4ga": (CT("pack-quantized", {"num_bits": 4, "type": "int", "symmetric": False, "strategy": "group",
                                     "group_size": 32}), []),
    "ctfp8": (CT("float-quantized", {"num_bits": 8, "type": "float", "symmetric": True, "strategy": "channel"},
                 {"num_bits": 8, "type": "float", "symmetric": True, "strategy": "token", "dynamic": True}), []),
    "ctfp8b": (CT("float-quantized", {"num_bits": 8, "type": "float", "symmetric": True, "strategy": "block",
                                      "block_structure": [32, 48]}), []),
}
BNB4 = {"quant_method": "bitsandbytes", "load_in_4bit": True, "load_in_8bit": False,
        "bnb_4bit_compute_dtype": "float32", "bnb_4bit_quant_storage": "uint8", "llm_int8_skip_modules": None}
CASES["bnbnf4"] = (dict(BNB4, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=False), [])
CASES["bnbnf4dq"] = (dict(BNB4, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True),
                     ["model.layers.1.self_attn.o_proj"])
CASES["bnbfp4"] = (dict(BNB4, bnb_4bit_quant_type="fp4", bnb_4bit_use_double_quant=False), [])
CASES["bnbint8"] = ({"quant_method": "bitsandbytes", "load_in_4bit": False, "load_in_8bit": True,
                     "llm_int8_threshold": 6.0, "llm_int8_skip_modules": None}, [])
COMMITTED = ["aqlm2x8", "aqlm1x8", "fp8block", "fp8tensor", "fp8channel", "ctw4g", "ctw4ga", "ctw8c", "ctfp8", "ctfp8b",
             "bnbnf4", "bnbnf4dq", "bnbfp4", "bnbint8"]
# bitsandbytes' 4-bit code books (QLoRA's NF4; its FP4 with the sign in the top bit), float32
NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
       -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
       0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
       0.7229568362236023, 1.0]
FP4 = [0.0, 0.005208333333, 0.66666667, 1.0, 0.33333333, 0.5, 0.16666667, 0.25,
       -0.0, -0.005208333333, -0.66666667, -1.0, -0.33333333, -0.5, -0.16666667, -0.25]
BNB_BLOCK, BNB_NESTED_BLOCK = 64, 16  # the releases' nested block is 256; 16 gives several here


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def bf16(x):  # round to nearest even, via f32's bits
    b = struct.unpack("<I", struct.pack("<f", x))[0]
    b = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
    return struct.unpack("<f", struct.pack("<I", b << 16))[0], b


def e4m3(v):
    """float8_e4m3fn by its bit definition: 1 sign, 4 exponent (bias 7), 3 mantissa; 0x7f NaN."""
    e, m = (v >> 3) & 15, v & 7
    if e == 15 and m == 7:
        return float("nan")
    x = m * 2.0 ** -9 if e == 0 else (8 + m) * 2.0 ** (e - 10)
    return -x if v & 0x80 else x


E4M3_POS = sorted((e4m3(v), v) for v in range(0x7F))  # 0 .. 448, codes 0x00 .. 0x7e


def to_e4m3(x):
    a = abs(x)
    k = bisect.bisect_left(E4M3_POS, (a, -1))
    cands = [E4M3_POS[j] for j in (k - 1, k) if 0 <= j < len(E4M3_POS)]
    val, code = min(cands, key=lambda c: abs(c[0] - a))
    return code | (0x80 if x < 0 and code else 0)


def pack_aqlm(name, W, out_f, in_f, cfg, rng):
    nc, nb = cfg["num_codebooks"], cfg["nbits_per_codebook"]
    size, J = 1 << nb, in_f // 8
    scales = [f16(max(max(abs(x) for x in W[o]), 1e-3)) for o in range(out_f)]
    groups = [[W[o][8 * j + k] / scales[o] for k in range(8)] for o in range(out_f) for j in range(J)]
    books, codes = [], [[0] * nc for _ in groups]
    if nb == 16:
        book = [[f16(rng.uniform(-1, 1)) for _ in range(8)] for _ in range(size)]
        for n, g in enumerate(groups):
            book[size - 1 - n] = [f16(x) for x in g]
            codes[n][0] = size - 1 - n
        books.append(book)
    else:
        resid = groups
        for c in range(nc):
            book = [[f16(x) for x in g] for g in rng.sample(resid, size)] if len(resid) >= size else \
                [[f16(x) for x in rng.choice(resid)] for _ in range(size)]
            nxt = []
            for n, g in enumerate(resid):
                best = min(range(size), key=lambda e: sum((g[k] - book[e][k]) ** 2 for k in range(8)))
                codes[n][c] = best
                nxt.append([g[k] - book[best][k] for k in range(8)])
            books.append(book)
            resid = nxt
    deq = []
    for o in range(out_f):
        for j in range(J):
            cs = codes[o * J + j]
            for k in range(8):
                v = books[0][cs[0]][k]
                for c in range(1, nc):
                    v = f32(v + books[c][cs[c]][k])
                deq.append(f32(v * scales[o]))
    flat = [c for n in range(len(groups)) for c in codes[n]]
    signed = [c - size if c >= size // 2 else c for c in flat]
    t = {
        name + ".codes": ("I16" if nb == 16 else "I8", [out_f, J, nc],
                          struct.pack("<%d%s" % (len(signed), "h" if nb == 16 else "b"), *signed)),
        name + ".codebooks": ("F16", [nc, size, 1, 8],
                              struct.pack("<%de" % (nc * size * 8), *[x for b in books for e in b for x in e])),
        name + ".scales": ("F16", [out_f, 1, 1, 1], struct.pack("<%de" % out_f, *scales)),
    }
    return t, deq


def pack_fp8(name, W, out_f, in_f, cfg, case):
    if cfg.get("weight_block_size"):
        br, bc = cfg["weight_block_size"]
    elif case == "fp8channel":
        br, bc = 1, in_f
    else:
        br, bc = out_f, in_f
    SR, SC = (out_f + br - 1) // br, (in_f + bc - 1) // bc
    s = [[0.0] * SC for _ in range(SR)]
    sbits = []
    for a in range(SR):
        for b in range(SC):
            m = max(abs(W[o][i]) for o in range(a * br, min(out_f, (a + 1) * br))
                    for i in range(b * bc, min(in_f, (b + 1) * bc)))
            v = max(m, 1e-6) / 448
            if case == "fp8channel":
                s[a][b], bits = bf16(v)
                sbits.append(bits)
            else:
                s[a][b] = f32(v)
    q = [to_e4m3(W[o][i] / s[o // br][i // bc]) for o in range(out_f) for i in range(in_f)]
    deq = [f32(e4m3(q[o * in_f + i]) * s[o // br][i // bc]) for o in range(out_f) for i in range(in_f)]
    t = {name + ".weight": ("F8_E4M3", [out_f, in_f], bytes(q))}
    flat = [x for r in s for x in r]
    if cfg.get("weight_block_size"):
        t[name + ".weight_scale_inv"] = ("F32", [SR, SC], f32_bytes(flat))
    elif case == "fp8channel":
        t[name + ".weight_scale"] = ("BF16", [out_f, 1], struct.pack("<%dH" % len(sbits), *sbits))
    else:
        t[name + ".weight_scale"] = ("F32", [], f32_bytes(flat))
    return t, deq


def pack_ct_int(name, W, out_f, in_f, w):
    """pack-quantized, symmetric: q in [-2^(b-1), 2^(b-1) - 1] stored + 2^(b-1), 32/b per int32 word
    along the input dim, lowest bits first (compressed-tensors' pack_to_int32); scales per group (or
    per row) as BF16 (int4) or F16 (int8); weight_shape I64 [out, in]."""
    b = w["num_bits"]
    per, off = 32 // b, 1 << (b - 1)
    gs = w["group_size"] if w["strategy"] == "group" else in_f
    G = (in_f + gs - 1) // gs
    sym = w.get("symmetric", True)
    sc, sbits, q, zp = [], [], [], [[0] * G for _ in range(out_f)]
    for o in range(out_f):
        for g in range(G):
            xs = W[o][g * gs:(g + 1) * gs]
            if sym:
                v = max(max(abs(x) for x in xs), 1e-4) / (off - 1)
            else:  # asymmetric: [min, max] onto [-2^(b-1), 2^(b-1) - 1] with a zero point
                lo, hi = min(min(xs), 0.0), max(max(xs), 0.0)
                v = max(hi - lo, 1e-4) / (2 * off - 1)
            if b == 4:
                v, bits = bf16(v)
                sbits.append(bits)
            else:
                v = f16(v)
            sc.append(v)
            if not sym:
                zp[o][g] = min(max(round(-lo / v) - off, -off), off - 1)
        q.append([min(max(round(W[o][i] / sc[o * G + i // gs]) + zp[o][i // gs], -off), off - 1) for i in range(in_f)])
    deq = [f32((q[o][i] - zp[o][i // gs]) * sc[o * G + i // gs]) for o in range(out_f) for i in range(in_f)]
    words = []
    for o in range(out_f):
        for k in range((in_f + per - 1) // per):
            wd = 0
            for e in range(per):
                i = k * per + e
                if i < in_f:
                    wd |= (q[o][i] + off) << (b * e)
            words.append(wd - (1 << 32) if wd >= 1 << 31 else wd)
    t = {name + ".weight_packed": ("I32", [out_f, len(words) // out_f], struct.pack("<%di" % len(words), *words)),
         name + ".weight_shape": ("I64", [2], struct.pack("<2q", out_f, in_f))}
    if not sym:  # zero points + 2^(b-1), packed along the outputs: [ceil(out / per), G]
        zw = []
        for k in range((out_f + per - 1) // per):
            for g in range(G):
                wd = 0
                for e in range(per):
                    o = k * per + e
                    if o < out_f:
                        wd |= (zp[o][g] + off) << (b * e)
                zw.append(wd - (1 << 32) if wd >= 1 << 31 else wd)
        t[name + ".weight_zero_point"] = ("I32", [(out_f + per - 1) // per, G], struct.pack("<%di" % len(zw), *zw))
    if b == 4:
        t[name + ".weight_scale"] = ("BF16", [out_f, G], struct.pack("<%dH" % len(sbits), *sbits))
    else:
        t[name + ".weight_scale"] = ("F16", [out_f, G], struct.pack("<%de" % len(sc), *sc))
    return t, deq


def pack_bnb4(name, W, out_f, in_f, cfg):
    """transformers' serialization of a bitsandbytes Params4bit: weight U8 [n/2, 1] (the flattened
    matrix, element 2k in the high nibble of byte k), weight.absmax F32 [blocks of 64] (or U8 with
    double quantization: then nested_absmax F32 per 16 blocks, nested_quant_map F32 [256] and the
    mean of the absmax as nested_offset), weight.quant_map F32 [16], and the quant state's other
    fields as JSON bytes in weight.quant_state.bitsandbytes__nf4 (or __fp4).
    w[j] = quant_map[code j] * absmax[j // 64] (nested: nested_quant_map[u8] * nested_absmax[b // 16]
    + offset, in f32)."""
    qt = cfg["bnb_4bit_quant_type"]
    code = [f32(x) for x in (NF4 if qt == "nf4" else FP4)]
    flat = [x for row in W for x in row]
    n = len(flat)
    blocks = (n + BNB_BLOCK - 1) // BNB_BLOCK
    amax = [f32(max(max(abs(x) for x in flat[b * BNB_BLOCK:(b + 1) * BNB_BLOCK]), 1e-6)) for b in range(blocks)]
    t = {}
    if cfg["bnb_4bit_use_double_quant"]:
        off = f32(sum(amax) / len(amax))
        nmap = [f32(-1 + 2 * k / 255) for k in range(256)]  # any 256 values: the file carries them
        nb = (blocks + BNB_NESTED_BLOCK - 1) // BNB_NESTED_BLOCK
        nabs = [f32(max(max(abs(a - off) for a in amax[i * BNB_NESTED_BLOCK:(i + 1) * BNB_NESTED_BLOCK]), 1e-9))
                for i in range(nb)]
        a8, used = [], []
        for b, a in enumerate(amax):
            s = nabs[b // BNB_NESTED_BLOCK]
            k = min(range(256), key=lambda k: abs(nmap[k] * s + off - a))
            a8.append(k)
            used.append(f32(f32(nmap[k] * s) + off))
        t[name + ".weight.absmax"] = ("U8", [blocks], bytes(a8))
        t[name + ".weight.nested_absmax"] = ("F32", [nb], f32_bytes(nabs))
        t[name + ".weight.nested_quant_map"] = ("F32", [256], f32_bytes(nmap))
        state = {"quant_type": qt, "blocksize": BNB_BLOCK, "dtype": "float32", "shape": [out_f, in_f],
                 "nested_blocksize": BNB_NESTED_BLOCK, "nested_dtype": "float32", "nested_offset": off}
        amax = used
    else:
        t[name + ".weight.absmax"] = ("F32", [blocks], f32_bytes(amax))
        state = {"quant_type": qt, "blocksize": BNB_BLOCK, "dtype": "float32", "shape": [out_f, in_f]}
    q = [min(range(16), key=lambda k: abs(code[k] * amax[j // BNB_BLOCK] - x)) for j, x in enumerate(flat)]
    deq = [f32(code[q[j]] * amax[j // BNB_BLOCK]) for j in range(n)]
    packed = bytes((q[2 * k] << 4) | (q[2 * k + 1] if 2 * k + 1 < n else 0) for k in range((n + 1) // 2))
    t[name + ".weight"] = ("U8", [(n + 1) // 2, 1], packed)
    t[name + ".weight.quant_map"] = ("F32", [16], f32_bytes(code))
    sj = json.dumps(state).encode()
    t[name + ".weight.quant_state.bitsandbytes__" + qt] = ("U8", [len(sj)], sj)
    return t, deq


def pack_bnb8(name, W, out_f, in_f):
    """LLM.int8: weight I8 [out, in] = round(w * 127 / SCB), SCB F32 [out] = max |w| of the row;
    w = (q * SCB) * 7.874015718698502e-3 in f32 (bitsandbytes' int8_vectorwise_dequant)."""
    inv = f32(7.874015718698502e-3)
    scb = [f32(max(max(abs(x) for x in W[o]), 1e-6)) for o in range(out_f)]
    q = [[max(-127, min(127, round(W[o][i] * 127 / scb[o]))) for i in range(in_f)] for o in range(out_f)]
    deq = [f32(f32(q[o][i] * scb[o]) * inv) for o in range(out_f) for i in range(in_f)]
    t = {name + ".weight": ("I8", [out_f, in_f], struct.pack("<%db" % (out_f * in_f), *[x for r in q for x in r])),
         name + ".SCB": ("F32", [out_f], f32_bytes(scb)),
         name + ".weight_format": ("U8", [], bytes([0]))}
    return t, deq


def write_case(out, case, tensors, config):
    qcfg, exempt = CASES[case]
    rng = random.Random(case)
    packed, plain = {}, {}
    for name, (shape, vals) in tensors.items():
        prefix = name[: -len(".weight")] if name.endswith(".weight") else None
        is_linear = prefix and any(prefix.endswith(n) for n in LINEARS) and ".layers." in prefix
        if not is_linear or prefix in exempt:
            packed[name] = plain[name] = ("F32", shape, f32_bytes(vals))
            continue
        out_f, in_f = shape
        W = [vals[o * in_f:(o + 1) * in_f] for o in range(out_f)]
        if qcfg["quant_method"] == "aqlm":
            t, deq = pack_aqlm(prefix, W, out_f, in_f, qcfg, rng)
        elif qcfg["quant_method"] == "bitsandbytes":
            t, deq = pack_bnb4(prefix, W, out_f, in_f, qcfg) if qcfg["load_in_4bit"] else \
                pack_bnb8(prefix, W, out_f, in_f)
        elif qcfg["quant_method"] == "compressed-tensors":
            w = qcfg["config_groups"]["group_0"]["weights"]
            if w["type"] == "int":
                t, deq = pack_ct_int(prefix, W, out_f, in_f, w)
            else:
                blk = w.get("block_structure")
                t, deq = pack_fp8(prefix, W, out_f, in_f, {"weight_block_size": blk} if blk else {},
                                  "fp8channel" if not blk else "fp8block")
                t = {k.replace(".weight_scale_inv", ".weight_scale"): v for k, v in t.items()}
        else:
            t, deq = pack_fp8(prefix, W, out_f, in_f, qcfg, case)
        packed.update(t)
        plain[name] = ("F32", shape, f32_bytes(deq))
    q = dict(qcfg)
    if q["quant_method"] == "aqlm":
        q["linear_weights_not_to_quantize"] = NOT_AQLM + [e + ".weight" for e in exempt]
    elif q["quant_method"] == "compressed-tensors":
        q["ignore"] = q["ignore"] + exempt
    elif q["quant_method"] == "bitsandbytes" and exempt:
        q["llm_int8_skip_modules"] = ["lm_head"] + exempt
    elif exempt:
        q["modules_to_not_convert"] = exempt
    for folder, ts, qc in ((f"hf-llama-{case}", packed, q), (f"hf-llama-{case}-deq", plain, None)):
        d = os.path.join(out, folder)
        os.makedirs(d, exist_ok=True)
        c = dict(config)
        if qc:
            c["quantization_config"] = qc
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=2)
            f.write("\n")
        write_safetensors(os.path.join(d, "model.safetensors"), ts)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
    cases = sys.argv[2:] or COMMITTED
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", SRC)
    if not os.path.isdir(src):
        src = os.path.join(out, SRC)
    tensors = read_safetensors(os.path.join(src, "model.safetensors"))
    with open(os.path.join(src, "config.json")) as f:
        config = json.load(f)
    for case in cases:
        write_case(out, case, tensors, config)
        print("wrote", case)


if __name__ == "__main__":
    main()
