#!/usr/bin/env python3
"""Writes the small seed GGUFs of fuzz/corpus/gguf/, and the GGUF-vocabulary seeds of
fuzz/corpus/tokenizer/ (fuzz_tokenizer.c mode 0 loads GGUFs too), run from the repository root.
Stdlib only (the serializer: tests/reference/gguf_io.py): the seeds are tiny hand-made files, not real models."""
import os
import random
import sys

sys.path.insert(0, os.path.join('tests', 'reference'))
from gguf_io import U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64  # noqa: E402
from gguf_io import byte_level_alphabet, write  # noqa: E402

# ggml type: (block elements, block bytes)
GEOM = {0: (1, 4), 1: (1, 2), 30: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24),
        8: (32, 34), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
        20: (32, 18), 23: (256, 136), 34: (256, 54), 35: (256, 66), 39: (32, 17), 40: (64, 36)}


def gguf(kvs, tensors, version=3, align=32, seed=1):
    """A file of the key/values and (name, ggml type, shape) tensors, with random data."""
    rng = random.Random(seed)
    off, infos, blobs = 0, [], []
    for name, typ, ne in tensors:
        be, bb = GEOM[typ]
        n = 1
        for d in ne:
            n *= d
        nbytes = n // be * bb
        infos.append([name, ne, typ, off])
        blob = bytes(rng.getrandbits(8) for _ in range(nbytes))
        if typ in (1, 2, 3, 6, 7, 8, 10, 11, 12, 13, 14):  # keep fp16 scales finite: clear exponent top bits
            blob = bytes(b & 0x3B if i % 2 else b for i, b in enumerate(blob))
        blobs.append(blob + b'\0' * ((-nbytes) % align))
        off += nbytes + (-nbytes) % align
    return write(version, kvs, infos, align, b''.join(blobs))


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


main()
