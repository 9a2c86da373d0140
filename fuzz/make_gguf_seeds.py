#!/usr/bin/env python3
"""Writes the small seed GGUFs of fuzz/corpus/gguf/, and the GGUF-vocabulary seeds of
fuzz/corpus/tokenizer/ (fuzz_tokenizer.c mode 0 loads GGUFs too), run from the repository root.
Only the struct module: the seeds are tiny hand-made files, not real models."""
import random
import struct

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: '<B', I8: '<b', U16: '<H', I16: '<h', U32: '<I', I32: '<i', F32: '<f',
          BOOL: '<?', U64: '<Q', I64: '<q', F64: '<d'}
# ggml type: (block elements, block bytes)
GEOM = {0: (1, 4), 1: (1, 2), 30: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24),
        8: (32, 34), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
        20: (32, 18), 23: (256, 136), 34: (256, 54), 35: (256, 66), 39: (32, 17), 40: (64, 36)}


def s(x):
    b = x.encode()
    return struct.pack('<Q', len(b)) + b


def value(t, v):
    if t == STR:
        return s(v)
    if t == ARR:
        et, items = v
        return struct.pack('<IQ', et, len(items)) + b''.join(value(et, i) for i in items)
    return struct.pack(SCALAR[t], v)


def gguf(kvs, tensors, version=3, align=32, seed=1):
    rng = random.Random(seed)
    out = b'GGUF' + struct.pack('<IQQ', version, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += s(k) + struct.pack('<I', t) + value(t, v)
    off, infos, blobs = 0, b'', []
    for name, typ, ne in tensors:
        be, bb = GEOM[typ]
        n = 1
        for d in ne:
            n *= d
        nbytes = n // be * bb
        infos += s(name) + struct.pack('<I', len(ne)) + b''.join(struct.pack('<Q', d) for d in ne)
        infos += struct.pack('<IQ', typ, off)
        blob = bytes(rng.getrandbits(8) for _ in range(nbytes))
        if typ in (1, 2, 3, 6, 7, 8, 10, 11, 12, 13, 14):  # keep fp16 scales finite: clear exponent top bits
            blob = bytes(b & 0x3B if i % 2 else b for i, b in enumerate(blob))
        blobs.append(blob + b'\0' * ((-nbytes) % align))
        off += nbytes + (-nbytes) % align
    out += infos
    out += b'\0' * ((-len(out)) % align)
    return out + b''.join(blobs)


def main():
    every = [
        ('t.u8', U8, 200), ('t.i8', I8, -100), ('t.u16', U16, 60000), ('t.i16', I16, -30000),
        ('t.u32', U32, 4000000000), ('t.i32', I32, -2000000000), ('t.f32', F32, 0.1),
        ('t.bool', BOOL, True), ('t.str', STR, 'h\u00e9llo'), ('t.u64', U64, 2**63 + 5),
        ('t.i64', I64, -2**62), ('t.f64', F64, -2.5e300),
        ('t.nested', ARR, (ARR, [(I32, [1, 2, 3]), (I32, []), (STR, ['a', 'bc'])])),
        ('general.alignment', U32, 64),
    ]
    with open('fuzz/corpus/gguf/every_type.gguf', 'wb') as f:
        f.write(gguf(every, [('a', 0, [4, 3]), ('b', 8, [64]), ('c', 12, [256, 1, 2])], align=64))
    toks = ['<unk>', '<s>', '</s>'] + ['<0x%02X>' % i for i in range(8)] + ['\u2581a', '\u2581the', 'ab', 'c', 'd']
    model = [
        ('general.architecture', STR, 'llama'), ('llama.embedding_length', U32, 256),
        ('llama.block_count', U32, 1), ('llama.attention.head_count', U32, 4),
        ('llama.attention.layer_norm_rms_epsilon', F32, 1e-5), ('llama.rope.freq_base', F32, 10000.0),
        ('tokenizer.ggml.model', STR, 'llama'), ('tokenizer.ggml.tokens', ARR, (STR, toks)),
        ('tokenizer.ggml.scores', ARR, (F32, [float(-i) for i in range(len(toks))])),
        ('tokenizer.ggml.token_type', ARR, (I32, [2, 3, 3] + [6] * 8 + [1] * 5)),
        ('tokenizer.ggml.bos_token_id', U32, 1), ('tokenizer.ggml.add_bos_token', BOOL, True),
    ]
    tensors = [('w.%d' % t, t, [256]) for t in (0, 1, 30, 2, 3, 6, 7, 8, 10, 11, 12, 13, 14)]
    with open('fuzz/corpus/gguf/all_quants.gguf', 'wb') as f:
        f.write(gguf(model, tensors, seed=2))
    # the low-bit types of formats/lowbit.c, and NVFP4 (listed, not read); 2 rows each
    lowbit = [('w.%d' % t, t, [256, 2]) for t in (20, 23, 34, 35, 39, 40)]
    with open('fuzz/corpus/gguf/lowbit_quants.gguf', 'wb') as f:
        f.write(gguf(model, lowbit, seed=3))
    with open('fuzz/corpus/gguf/vocab_v2.gguf', 'wb') as f:
        f.write(gguf(model[6:10], [], version=2))

    # Tokenizer seeds: mode byte 0, then a vocabulary-only GGUF of each tokenizer model.
    with open('fuzz/corpus/tokenizer/gguf-spm', 'wb') as f:
        f.write(b'\0' + gguf(model[6:10], []))
    bpe_toks = byte_level_alphabet() + ['\u0120t', 'he', '\u0120the', 'in', '<|endoftext|>']
    bpe = [
        ('tokenizer.ggml.model', STR, 'gpt2'), ('tokenizer.ggml.pre', STR, 'qwen2'),
        ('tokenizer.ggml.tokens', ARR, (STR, bpe_toks)),
        ('tokenizer.ggml.token_type', ARR, (I32, [1] * (len(bpe_toks) - 1) + [3])),
        ('tokenizer.ggml.merges', ARR, (STR, ['\u0120 t', 'h e', '\u0120t he', 'i n'])),
        ('tokenizer.ggml.bos_token_id', U32, len(bpe_toks) - 1),
    ]
    with open('fuzz/corpus/tokenizer/gguf-bpe', 'wb') as f:
        f.write(b'\0' + gguf(bpe, []))


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


main()
