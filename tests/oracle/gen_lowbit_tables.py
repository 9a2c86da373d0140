#!/usr/bin/env python3
"""Derives the value tables of the low-bit GGUF block types from llama.cpp's own dequantizer and
writes them as formats/lowbit_tables.h (docs/formats.md, "IQ4_NL, IQ4_XS, TQ1_0, TQ2_0, MXFP4").

The tables are facts of the formats; nothing of ggml's source is copied. Crafted blocks go through
the oracle's `dequant TYPE IN OUT` (ggml_get_type_traits(type)->to_float):
  IQ4_NL  one block, fp16 scale 1.0, nibble j at position j (0..15): the 16 outputs are the 16
          non-linear levels (integers; IQ4_XS uses the same levels).
  MXFP4   256 blocks, e8m0 exponent byte e = 0..255, nibble j at position j: the block whose
          outputs are all integers with nibble 1 giving 1 holds the 16 e2m1 levels (stored doubled,
          as integers); nibble 1 of block e (level 1) is the float scale that byte e stands for.
The test test_lowbit.c compares every value these tables give with the oracle again.

usage: python3 tests/oracle/gen_lowbit_tables.py [ORACLE] > formats/lowbit_tables.h
       (ORACLE defaults to build/oracle/llama_oracle: make build/oracle/llama_oracle)
"""
import os
import struct
import subprocess
import sys
import tempfile


def dequant(oracle, type_name, blocks):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        with open(src, "wb") as f:
            f.write(blocks)
        subprocess.run([oracle, "dequant", type_name, src, dst], check=True)
        with open(dst, "rb") as f:
            data = f.read()
    n = len(data) // 4
    return list(struct.unpack("<%df" % n, data)), list(struct.unpack("<%dI" % n, data))


def as_ints(values, what):
    ints = [int(v) for v in values]
    if any(float(i) != v or not -128 <= i <= 127 for i, v in zip(ints, values)):
        sys.exit("gen_lowbit_tables: %s: %r are not int8 values" % (what, values))
    return ints


def iq4_levels(oracle):
    block = struct.pack("<H", 0x3C00) + bytes(range(16))  # fp16 1.0; qs[j] = j
    values, _ = dequant(oracle, "IQ4_NL", block)
    return as_ints(values[:16], "IQ4_NL levels")


def mxfp4_tables(oracle):
    blocks = b"".join(bytes([e]) + bytes(range(16)) for e in range(256))
    values, bits = dequant(oracle, "MXFP4", blocks)
    unit = [e for e in range(256) if values[32 * e + 1] == 1.0]
    if len(unit) != 1:
        sys.exit("gen_lowbit_tables: MXFP4: %d exponent bytes give level 1 = 1.0" % len(unit))
    levels = as_ints(values[32 * unit[0]:32 * unit[0] + 16], "MXFP4 levels")
    if levels[1] != 1:
        sys.exit("gen_lowbit_tables: MXFP4: nibble 1 is %d, not 1" % levels[1])
    return levels, [bits[32 * e + 1] for e in range(256)], unit[0]


def c_rows(items, per_row, fmt):
    out = []
    for i in range(0, len(items), per_row):
        out.append("    " + ", ".join(fmt % x for x in items[i:i + per_row]) + ",")
    return "\n".join(out)


def main():
    oracle = sys.argv[1] if len(sys.argv) > 1 else "build/oracle/llama_oracle"
    iq4 = iq4_levels(oracle)
    mx_levels, mx_scale, unit = mxfp4_tables(oracle)
    print("""/* lowbit_tables: value tables of IQ4_NL/IQ4_XS and MXFP4. GENERATED, do not edit:
 *   python3 tests/oracle/gen_lowbit_tables.py build/oracle/llama_oracle > formats/lowbit_tables.h
 * derived from llama.cpp's dequantizer (the llama_oracle `dequant` command, node-llama-cpp 3.21.1)
 * on crafted blocks: IQ4_NL with scale 1.0 and nibbles 0..15 gives the levels; MXFP4 with
 * exponent bytes 0..255 and nibbles 0..15 gives the e2m1 levels (doubled, at exponent byte %d where
 * they come out as integers) and, from nibble 1, the float each exponent byte stands for.
 * Private to formats/lowbit.c. */
#ifndef COLDTOK_LOWBIT_TABLES_H
#define COLDTOK_LOWBIT_TABLES_H

#include <stdint.h>

/* IQ4_NL and IQ4_XS: the 16 non-linear 4-bit levels, by nibble. */
static const int8_t IQ4_LEVELS[16] = {
%s
};

/* MXFP4: the 16 e2m1 values by nibble, times 2 (integers). */
static const int8_t MXFP4_LEVELS[16] = {
%s
};

/* MXFP4: the float (as IEEE bits) that exponent byte e stands for, already halved to match the
 * doubled levels: value = MXFP4_LEVELS[q] * float(MXFP4_SCALE_BITS[e]). */
static const uint32_t MXFP4_SCALE_BITS[256] = {
%s
};

#endif""" % (unit, c_rows(iq4, 16, "%d"), c_rows(mx_levels, 16, "%d"),
             c_rows(mx_scale, 8, "0x%08x")))


if __name__ == "__main__":
    main()
