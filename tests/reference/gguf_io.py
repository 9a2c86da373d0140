"""The one GGUF serializer of the project's Python scripts (stdlib only): key/value and tensor-info
encoding, a parser that splits a file into header, key/values, infos and data, and a writer; and
GPT-2's byte-level alphabet, which the vocabulary seeds need. Used by fuzz/make_gguf_seeds.py,
fuzz/make_hostile_a_seeds.py and tests/data/hostile-a/gguf_edit.py."""
import struct

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: '<B', I8: '<b', U16: '<H', I16: '<h', U32: '<I', I32: '<i', F32: '<f',
          BOOL: '<?', U64: '<Q', I64: '<q', F64: '<d'}


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


def byte_level_alphabet():
    """GPT-2's byte-to-unicode table in byte order: printable Latin-1 bytes stand for themselves,
    the others are shifted to U+0100 and up."""
    keep = set(range(ord('!'), ord('~') + 1)) | set(range(0xA1, 0xAD)) | set(range(0xAE, 0x100))
    out, shift = [], 0
    for b in range(256):
        if b in keep:
            out.append(chr(b))
        else:
            out.append(chr(256 + shift))
            shift += 1
    return out
