#!/usr/bin/env python3
"""Derives the grids and sign patterns of ggml's grid-based i-quants from the llama.cpp oracle.

    python3 tests/oracle/make_iq_tables.py build/oracle/llama_oracle > formats/iq_tables.c

The tables are facts of the formats (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M), not
code: this script asks ggml's own dequantizer (the oracle's `dequant TYPE IN OUT` = to_float) to
decode crafted blocks whose scale makes the block multiplier exactly 1 and whose every 8- (or 4-)
value group selects one grid index, and reads the grid values back. The sign table comes from
IQ2_XXS groups that select a sign index, the IQ1 deltas from the same IQ1 index decoded with the
delta bit clear and set. It knows only the block layouts (docs/formats.md), which it must to craft
the blocks. The C file it prints is committed; tests/cli_iquants.sh regenerates it and compares.
Standard library only.
"""
import os
import struct
import subprocess
import sys
import tempfile

ORACLE = sys.argv[1] if len(sys.argv) > 1 else "build/oracle/llama_oracle"
F16_ONE, F16_FOUR, F16_EIGHT = 0x3C00, 0x4400, 0x4800


def dequant(type_name, blocks, block_bytes):
    """ggml's to_float of the concatenated blocks, as a list of floats."""
    data = b"".join(blocks)
    assert all(len(b) == block_bytes for b in blocks), type_name
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "blocks"), os.path.join(tmp, "out.f32")
        with open(src, "wb") as f:
            f.write(data)
        subprocess.run([ORACLE, "dequant", type_name, src, dst], check=True)
        with open(dst, "rb") as f:
            out = f.read()
    return list(struct.unpack("<%df" % (len(out) // 4), out))


def as_int(v, what):
    if v != int(v):
        sys.exit("make_iq_tables: %s gave %r, not an integer: the block multiplier is not 1" % (what, v))
    return int(v)


def groups(values, width):
    return [values[i:i + width] for i in range(0, len(values), width)]


# ---- IQ2_XXS: half d; 8 x (u8 grid index[4], u32 4 x 7-bit sign index | 4-bit scale << 28) ----
# multiplier d * (0.5 + scale) * 0.25 = 1 with d = 8, scale 0

def iq2xxs_block(indices, sign_indices):
    b = struct.pack("<H", F16_EIGHT)
    for ib in range(8):
        idx, sg = indices[4 * ib:4 * ib + 4], sign_indices[4 * ib:4 * ib + 4]
        b += bytes(idx) + struct.pack("<I", sum(s << (7 * l) for l, s in enumerate(sg)))
    return b


def grid_iq2xxs():
    blocks = [iq2xxs_block(list(range(k, k + 32)), [0] * 32) for k in range(0, 256, 32)]
    return [[abs(as_int(v, "IQ2_XXS")) for v in g] for g in groups(dequant("IQ2_XXS", blocks, 66), 8)]


def ksigns():
    """The 8 signs that each 7-bit sign index selects: bit j set = value j negated."""
    blocks = [iq2xxs_block([0] * 32, list(range(k, k + 32))) for k in range(0, 128, 32)]
    out = []
    for g in groups(dequant("IQ2_XXS", blocks, 66), 8):
        if any(v == 0 for v in g):
            sys.exit("make_iq_tables: IQ2_XXS grid entry 0 has a zero: signs unreadable")
        out.append(sum(1 << j for j, v in enumerate(g) if v < 0))
    return out


# ---- IQ2_XS: half d; u16 qs[32] (9-bit grid index | 7-bit sign index << 9); u8 scales[8] ----

def grid_iq2xs():
    blocks = [struct.pack("<H32H", F16_EIGHT, *range(k, k + 32)) + bytes(8) for k in range(0, 512, 32)]
    return [[abs(as_int(v, "IQ2_XS")) for v in g] for g in groups(dequant("IQ2_XS", blocks, 74), 8)]


# ---- IQ2_S: half d; u8 qs[32] (low 8 index bits); u8 signs[32]; u8 qh[8] (2 high bits per
# group, group l at bits 2l..2l+1); u8 scales[8] ----

def grid_iq2s():
    blocks = []
    for k in range(0, 1024, 32):
        idx = list(range(k, k + 32))
        qh = [sum(((idx[4 * ib + l] >> 8) & 3) << (2 * l) for l in range(4)) for ib in range(8)]
        blocks.append(struct.pack("<H", F16_EIGHT) + bytes(i & 255 for i in idx) + bytes(32) + bytes(qh) + bytes(8))
    return [[abs(as_int(v, "IQ2_S")) for v in g] for g in groups(dequant("IQ2_S", blocks, 82), 8)]


# ---- IQ3_XXS: half d; u8 grid index[64] (4 values each); u32 scales_and_signs[8] ----
# multiplier d * (0.5 + scale) * 0.5 = 1 with d = 4

def grid_iq3xxs():
    blocks = [struct.pack("<H", F16_FOUR) + bytes(range(k, k + 64)) + bytes(32) for k in range(0, 256, 64)]
    return [[abs(as_int(v, "IQ3_XXS")) for v in g] for g in groups(dequant("IQ3_XXS", blocks, 98), 4)]


# ---- IQ3_S: half d; u8 qs[64] (low index bits); u8 qh[8] (bit k of qh[ib] = 9th bit of
# qs[8 ib + k]); u8 signs[32]; u8 scales[4]; multiplier d * (1 + 2 scale) = 1 with d = 1 ----

def grid_iq3s():
    blocks = []
    for k in range(0, 512, 64):
        idx = list(range(k, k + 64))
        qh = [sum(((idx[8 * ib + j] >> 8) & 1) << j for j in range(8)) for ib in range(8)]
        blocks.append(struct.pack("<H", F16_ONE) + bytes(i & 255 for i in idx) + bytes(qh) + bytes(32) + bytes(4))
    return [[abs(as_int(v, "IQ3_S")) for v in g] for g in groups(dequant("IQ3_S", blocks, 110), 4)]


# ---- IQ1_S: half d; u8 qs[32] (low index bits); u16 qh[8] (3 high index bits per group at
# 3l, scale at bits 12..14, delta sign at bit 15); value = d (2 scale + 1) (grid + delta) ----

def iq1s_values(negative_delta):
    blocks = []
    for k in range(0, 2048, 32):
        idx = list(range(k, k + 32))
        qh = [sum(((idx[4 * ib + l] >> 8) & 7) << (3 * l) for l in range(4)) | (negative_delta << 15) for ib in range(8)]
        blocks.append(struct.pack("<H", F16_ONE) + bytes(i & 255 for i in idx) + struct.pack("<8H", *qh))
    return dequant("IQ1_S", blocks, 50)


# ---- IQ1_M: u8 qs[32]; u8 qh[16] (per pair of groups: 3 high index bits at 0 and 4, delta sign
# at 3 and 7); u16 scales[4] (3-bit group scales; the fp16 d in the top nibbles, low first) ----

def iq1m_values(negative_delta):
    blocks = []
    sc = [(F16_ONE >> (4 * i) & 15) << 12 for i in range(4)]  # group scales 0: multiplier d = 1
    for k in range(0, 2048, 32):
        idx = list(range(k, k + 32))
        qh = [((idx[2 * p] >> 8) & 7) | (((idx[2 * p + 1] >> 8) & 7) << 4) | (0x88 if negative_delta else 0)
              for p in range(16)]
        blocks.append(bytes(i & 255 for i in idx) + bytes(qh) + struct.pack("<4H", *sc))
    return dequant("IQ1_M", blocks, 56)


def iq1(name, values_of):
    """The grid (values -1, 0, 1) and delta of an IQ1 type: value = grid + delta or grid - delta."""
    plus, minus = values_of(0), values_of(1)
    deltas = {(p - m) / 2 for p, m in zip(plus, minus)}
    if len(deltas) != 1:
        sys.exit("make_iq_tables: %s has more than one delta: %r" % (name, sorted(deltas)[:4]))
    grid = [as_int((p + m) / 2, name) for p, m in zip(plus, minus)]
    if not set(grid) <= {-1, 0, 1}:
        sys.exit("make_iq_tables: %s grid values are not all -1, 0, 1" % name)
    return groups(grid, 8), deltas.pop()


def pack_bytes(values):
    return sum((v & 255) << (8 * j) for j, v in enumerate(values))


def emit_array(ctype, name, entries, digits, per_line):
    lines = ["const %s %s[%d] = {" % (ctype, name, len(entries))]
    for i in range(0, len(entries), per_line):
        lines.append("    " + " ".join("0x%0*x," % (digits, e) for e in entries[i:i + per_line]))
    lines.append("};")
    return "\n".join(lines)


def main():
    iq1s_grid, iq1s_delta = iq1("IQ1_S", iq1s_values)
    iq1m_grid, iq1m_delta = iq1("IQ1_M", iq1m_values)
    if iq1m_grid != iq1s_grid:
        sys.exit("make_iq_tables: IQ1_M does not use IQ1_S's grid")
    out = [
        "/* iq_tables: the grids and sign patterns of ggml's grid-based i-quants (see iq_tables.h).",
        " *",
        " * GENERATED, do not edit: made by",
        " *     python3 tests/oracle/make_iq_tables.py build/oracle/llama_oracle > formats/iq_tables.c",
        " * which decodes crafted blocks with ggml's own dequantizer (the llama.cpp oracle's",
        " * `dequant TYPE IN OUT`, ggml_get_type_traits(type)->to_float of node-llama-cpp 3.21.1) and",
        " * reads the values back; tests/cli_iquants.sh regenerates it and compares. */",
        '#include "formats/iq_tables.h"',
        "",
        emit_array("uint64_t", "iq2xxs_grid", [pack_bytes(g) for g in grid_iq2xxs()], 16, 6),
        "",
        emit_array("uint64_t", "iq2xs_grid", [pack_bytes(g) for g in grid_iq2xs()], 16, 6),
        "",
        emit_array("uint64_t", "iq2s_grid", [pack_bytes(g) for g in grid_iq2s()], 16, 6),
        "",
        emit_array("uint32_t", "iq3xxs_grid", [pack_bytes(g) for g in grid_iq3xxs()], 8, 10),
        "",
        emit_array("uint32_t", "iq3s_grid", [pack_bytes(g) for g in grid_iq3s()], 8, 10),
        "",
        "/* value j of entry i: ((iq1s_grid[i] >> 2j) & 3) - 1 */",
        emit_array("uint16_t", "iq1s_grid", [sum((v + 1) << (2 * j) for j, v in enumerate(g)) for g in iq1s_grid], 4, 12),
        "",
        emit_array("uint8_t", "iq_ksigns", ksigns(), 2, 16),
        "",
        "const float iq1s_delta = %.9gf;" % iq1s_delta,
        "const float iq1m_delta = %.9gf;" % iq1m_delta,
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main()
