#!/usr/bin/env python3
"""Hostile variants of a GGUF file, for tests/cli_hostile_a.sh (python3 stdlib only).

  gguf_edit.py SRC DST set KEY TYPE VALUE     replace (or add) a scalar key; TYPE: u32 i32 u64 i64 str
  gguf_edit.py SRC DST del KEY                drop a key
  gguf_edit.py SRC DST poison TENSOR INDEX V  set element INDEX of an F32 tensor to V (nan, inf, -inf)
  gguf_edit.py SRC DST merge-unknown          append a merge whose tokens are not in the vocabulary
  gguf_edit.py SRC DST drop-token TEXT        rename the token TEXT (a byte token of a byte-level
                                              vocabulary) so that the vocabulary lacks it
  gguf_edit.py SRC DST n-tensors-minus-one    header count one too small, nothing else changed

The file is parsed and written back whole (tests/reference/gguf_io.py): header, key/values, tensor infos, padding, data (the
tensor data bytes are copied unchanged, so offsets stay valid)."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'reference'))
from gguf_io import STR, U32, I32, U64, I64, parse, write  # noqa: E402

NAMES = {'u32': U32, 'i32': I32, 'u64': U64, 'i64': I64, 'str': STR}


def main():
    src, dst, op, *args = sys.argv[1:]
    version, kvs, infos, align, data = parse(open(src, 'rb').read())
    n_tensors = None
    if op == 'set':
        key, tname, val = args
        t = NAMES[tname]
        v = val if t == STR else int(val)
        for kv in kvs:
            if kv[0] == key:
                kv[1], kv[2] = t, v
                break
        else:
            kvs.append([key, t, v])
    elif op == 'del':
        kvs = [kv for kv in kvs if kv[0] != args[0]]
    elif op == 'poison':
        name, idx, val = args[0], int(args[1]), float(args[2])
        info = next(i for i in infos if i[0] == name)
        assert info[2] == 0, 'poison needs an F32 tensor'
        data = bytearray(data)
        struct.pack_into('<f', data, info[3] + 4 * idx, val)
        data = bytes(data)
    elif op == 'merge-unknown':
        kv = next(kv for kv in kvs if kv[0] == 'tokenizer.ggml.merges')
        kv[2][1].append('zzqq\u00e9\u00e9 xxyy')
    elif op == 'drop-token':
        kv = next(kv for kv in kvs if kv[0] == 'tokenizer.ggml.tokens')
        toks = kv[2][1]
        toks[toks.index(args[0])] = '<dropped-byte-token>'
    elif op == 'n-tensors-minus-one':
        n_tensors = len(infos) - 1
    else:
        sys.exit('unknown operation ' + op)
    open(dst, 'wb').write(write(version, kvs, infos, align, data, n_tensors))


if __name__ == '__main__':
    main()
