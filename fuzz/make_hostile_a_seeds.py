#!/usr/bin/env python3
"""Writes the hostile-input seeds of issue 17 (part A) into fuzz/corpus/gguf/ and
fuzz/corpus/tokenizer/ (files named hostile-a-*), run from the repository root: GGUF integers that
do not fit an int, NaN/Inf weights, a tensor count one too small, a data section longer than its
tensors, and vocabularies with an out-of-range BOS id, a merge of unknown tokens, or a byte-level
alphabet missing a byte. Each is refused with one line by coldtok (tests/cli_hostile_a.sh checks
the full-size versions); as seeds they start the fuzzers next to those checks. Stdlib only; the
GGUF serializer is tests/reference/gguf_io.py."""
import math
import os
import struct
import sys

sys.path.insert(0, os.path.join('tests', 'reference'))
import gguf_io as ge  # noqa: E402

U32, I32, F32, STR, ARR, U64 = ge.U32, ge.I32, ge.F32, ge.STR, ge.ARR, ge.U64


def model_kvs(block_count_type=U32, block_count=1):
    return [['general.architecture', STR, 'llama'], ['llama.embedding_length', U32, 32],
            ['llama.block_count', block_count_type, block_count], ['llama.feed_forward_length', U32, 64],
            ['llama.attention.head_count', U32, 4],
            ['llama.attention.layer_norm_rms_epsilon', F32, 1e-5]]


def tensors(values_list):
    """[(name, [f32 values])] -> infos, data (each tensor padded to 32 bytes)."""
    infos, data = [], b''
    for name, vals in values_list:
        infos.append([name, [len(vals)], 0, len(data)])
        blob = struct.pack('<%df' % len(vals), *vals)
        data += blob + b'\0' * ((-len(blob)) % 32)
    return infos, data


def write(path, kvs, tens, n_tensors=None, extra=b''):
    infos, data = tensors(tens)
    with open(path, 'wb') as f:
        f.write(ge.write(3, kvs, infos, 32, data + extra, n_tensors))


def bpe_vocab(bos=None, merges=('\u0120 t', 'h e'), drop=None):
    toks = ge.byte_level_alphabet() + ['\u0120t', 'he', '<|endoftext|>']
    if drop is not None:
        toks[drop] = '<dropped>'
    kvs = [['tokenizer.ggml.model', STR, 'gpt2'], ['tokenizer.ggml.pre', STR, 'qwen2'],
           ['tokenizer.ggml.tokens', ARR, (STR, toks)],
           ['tokenizer.ggml.token_type', ARR, (I32, [1] * (len(toks) - 1) + [3])],
           ['tokenizer.ggml.merges', ARR, (STR, list(merges))],
           ['tokenizer.ggml.bos_token_id', U32, len(toks) - 1 if bos is None else bos]]
    return b'\0' + ge.write(3, kvs, [], 32, b'')


def main():
    g, t = 'fuzz/corpus/gguf/', 'fuzz/corpus/tokenizer/'
    small = [('a', [0.5] * 8), ('b', [0.25] * 8)]
    write(g + 'hostile-a-u64-block-count.gguf', model_kvs(U64, 2**32 + 2), small)
    write(g + 'hostile-a-nan-inf-weights.gguf', model_kvs(), [('a', [1.0, math.nan, math.inf, -math.inf] * 2)])
    write(g + 'hostile-a-n-tensors-short.gguf', model_kvs(), small, n_tensors=1)
    write(g + 'hostile-a-trailing-data.gguf', model_kvs(), small, extra=b'\0' * 64)
    with open(t + 'hostile-a-gguf-bpe-bos-out-of-range', 'wb') as f:
        f.write(bpe_vocab(bos=99999))
    with open(t + 'hostile-a-gguf-bpe-merge-unknown', 'wb') as f:
        f.write(bpe_vocab(merges=('\u0120 t', 'zz qq')))
    with open(t + 'hostile-a-gguf-bpe-missing-byte', 'wb') as f:
        f.write(bpe_vocab(drop=1))


main()
