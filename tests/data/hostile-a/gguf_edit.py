#!/usr/bin/env python3
"""Hostile variants of a GGUF file, for tests/cli_hostile_a.sh (python3 stdlib only).

  gguf_edit.py SRC DST set KEY TYPE VALUE     replace (or add) a scalar key; TYPE: u32 i32 u64 i64 str
  gguf_edit.py SRC DST del KEY                drop a key
  gguf_edit.py SRC DST poison TENSOR INDEX V  set element INDEX of an F32 tensor to V (nan, inf, -inf)
  gguf_edit.py SRC DST merge-unknown          append a merge whose tokens are not in the vocabulary
  gguf_edit.py SRC DST drop-token TEXT        rename the token TEXT (a byte token of a byte-level
                                              vocabulary) so that the vocabulary lacks it
  gguf_edit.py SRC DST n-tensors-minus-one    header count one too small, nothing else changed

The file is parsed and written back whole: header, key/values, tensor infos, padding, data (the
tensor data bytes are copied unchanged, so offsets stay valid)."""
import math
import struct
import sys

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: '<B', I8: '<b', U16: '<H', I16: '<h', U32: '<I', I32: '<i', F32: '<f',
          BOOL: '<?', U64: '<Q', I64: '<q', F64: '<d'}
NAMES = {'u32': U32, 'i32': I32, 'u64': U64, 'i64': I64, 'str': STR}


class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)
        self.p += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.take('<Q')
        s = self.b[self.p:self.p + n]
        self.p += n
        return s.decode('utf-8', 'surrogateescape')

    def value(self, t):
        if t == STR:
            return self.string()
        if t == ARR:
            et, n = self.take('<IQ')
            return (et, [self.value(et) for _ in range(n)])
        return self.take(SCALAR[t])


def enc_str(s):
    b = s.encode('utf-8', 'surrogateescape')
    return struct.pack('<Q', len(b)) + b


def enc_value(t, v):
    if t == STR:
        return enc_str(v)
    if t == ARR:
        et, items = v
        return struct.pack('<IQ', et, len(items)) + b''.join(enc_value(et, i) for i in items)
    return struct.pack(SCALAR[t], v)


def parse(b):
    r = Reader(b)
    assert r.b[:4] == b'GGUF'
    r.p = 4
    version, n_t, n_kv = r.take('<IQQ')
    kvs = []
    for _ in range(n_kv):
        k = r.string()
        t = r.take('<I')
        kvs.append([k, t, r.value(t)])
    infos = []
    for _ in range(n_t):
        name = r.string()
        nd = r.take('<I')
        ne = [r.take('<Q') for _ in range(nd)]
        typ, off = r.take('<IQ')
        infos.append([name, ne, typ, off])
    align = next((v for k, t, v in kvs if k == 'general.alignment'), 32)
    start = r.p + (-r.p) % align
    return version, kvs, infos, align, b[start:]


def write(version, kvs, infos, align, data, n_tensors=None):
    out = b'GGUF' + struct.pack('<IQQ', version, len(infos) if n_tensors is None else n_tensors, len(kvs))
    for k, t, v in kvs:
        out += enc_str(k) + struct.pack('<I', t) + enc_value(t, v)
    for name, ne, typ, off in infos:
        out += enc_str(name) + struct.pack('<I', len(ne)) + b''.join(struct.pack('<Q', d) for d in ne)
        out += struct.pack('<IQ', typ, off)
    out += b'\0' * ((-len(out)) % align)
    return out + data


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
