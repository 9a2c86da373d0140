#!/usr/bin/env python3
"""Builds the small real tokenizers and the seed corpus of fuzz/fuzz_tokenizer.c.

    python3 fuzz/make_tokenizer_seeds.py          (from the repository root; needs the `regex` module)

Writes
  tests/data/tiny-bytelevel-tokenizer.json  byte-level BPE (GPT-2 byte alphabet + 320 merges learned from
                                            tests/data/code-snippets.jsonl), Split regex as Qwen2's,
                                            merges in the [["a","b"]] pair form, two added tokens
  tests/data/tiny-spm-tokenizer.json        SentencePiece-style BPE: byte fallback, Prepend/Replace
                                            normalizer, Replace/ByteFallback/Fuse/Strip decoder, merges in
                                            the "a b" string form
  fuzz/corpus/tokenizer/*                   seeds: first byte = mode (see fuzz_tokenizer.c), then data
The merges are learned with plain BPE (most frequent pair, ties broken by first occurrence), so the
files are deterministic. They are real tokenizer.json files that @lenml/tokenizers loads too.
"""
import json
import os
from collections import Counter

import regex

SNIPPETS = "tests/data/code-snippets.jsonl"
QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
              r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def learn_merges(words, n_merges):
    """words: Counter of tuples of symbols. Returns the merges in order."""
    words = {tuple(w): c for w, c in words.items()}
    merges = []
    for _ in range(n_merges):
        pairs = Counter()
        first = {}
        for w, c in words.items():
            for i in range(len(w) - 1):
                p = (w[i], w[i + 1])
                pairs[p] += c
                first.setdefault(p, len(first))
        if not pairs:
            break
        best = max(pairs, key=lambda p: (pairs[p], -first[p]))
        merges.append(best)
        merged = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + c
        words = merged
    return merges


def texts():
    with open(SNIPPETS, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def added(id_, content, special):
    return {"id": id_, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": special}


def bytelevel_tokenizer(corpus):
    b2u = bytes_to_unicode()
    words = Counter()
    for t in corpus:
        for piece in regex.findall(QWEN_SPLIT, t):
            words[tuple(b2u[b] for b in piece.encode("utf-8"))] += 1
    merges = learn_merges(words, 320)
    vocab = {b2u[b]: b for b in range(256)}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    n = len(vocab)
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(n, "<|endoftext|>", True), added(n + 1, "<tool_call>", False)],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN_SPLIT}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": [[a, b] for a, b in merges]},
    }


def spm_tokenizer(corpus):
    # Symbols: "▁" and the non-space characters of the corpus seen at least 3 times; the rest falls back
    # to bytes, like Llama's tokenizer does for rare characters (whitespace other than " " included).
    text = ["▁" + t.replace(" ", "▁") for t in corpus]
    chars = Counter(ch for t in text for ch in t)
    alphabet = sorted(ch for ch, c in chars.items() if c >= 3 and not ch.isspace())
    words = Counter()
    for t in text:  # no pre-tokenizer: one "word" per line is enough to learn from
        for line in t.split("\n"):
            if line:
                words[tuple(ch if ch in alphabet else "\0" for ch in line)] += 1
    merges = [m for m in learn_merges(words, 400) if "\0" not in m[0] + m[1]][:320]
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for ch in alphabet:
        vocab.setdefault(ch, len(vocab))
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(0, "<unk>", True), added(1, "<s>", True), added(2, "</s>", True)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "▁"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
        "pre_tokenizer": None,
        "post_processor": None,
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                  "vocab": vocab, "merges": ["%s %s" % m for m in merges]},
    }


def small_variants():
    """Hand-made small tokenizer.json files for the other normalizers, pre-tokenizers and decoders."""
    v = {"<unk>": 0, "▁": 1, "a": 2, "b": 3, "c": 4, "1": 5, "2": 6, "▁a": 7, "ab": 8, "▁ab": 9, "12": 10}
    metaspace = {
        "version": "1.0", "added_tokens": [added(11, "[SEP]", True)],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": False},
            {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}]},
        "post_processor": None,
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": True, "vocab": v, "merges": ["▁ a", "a b", "▁a b", "1 2"]},
    }
    nfc = {
        "version": "1.0", "added_tokens": [],
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "vocab": {"Ġ": 0, "a": 1, "b": 2, "Ġa": 3, "Ã": 4, "©": 5, "Ã©": 6},
                  "merges": [["Ġ", "a"], ["Ã", "©"]]},
    }
    return {"metaspace-nfkc-digits": metaspace, "bytelevel-nfc": nfc}


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    corpus = texts()
    bl = json.dumps(bytelevel_tokenizer(corpus), ensure_ascii=False, indent=None)
    spm = json.dumps(spm_tokenizer(corpus), ensure_ascii=False, indent=None)
    write("tests/data/tiny-bytelevel-tokenizer.json", bl.encode() + b"\n")
    write("tests/data/tiny-spm-tokenizer.json", spm.encode() + b"\n")
    seeds = "fuzz/corpus/tokenizer/"
    # mode 0: the data is a tokenizer.json
    write(seeds + "json-bytelevel", b"\x00" + bl.encode())
    write(seeds + "json-spm", b"\x00" + spm.encode())
    for name, tj in small_variants().items():
        write(seeds + "json-" + name, b"\x00" + json.dumps(tj, ensure_ascii=False).encode())
    write(seeds + "json-truncated", b"\x00" + bl.encode()[:300])
    # modes 1 (byte-level) and 2 (SentencePiece-style): the data is text; bit 2 = TOK_ENC_NO_SPECIAL,
    # bit 3 = TOK_ENC_NO_PREFIX
    picks = [0, 3, 13, 58, 96, 118, 121, 135, 140, 146, 147, 150, 153]
    for i in picks:
        t = corpus[i].encode()
        if len(t) > 600:
            t = t[:600].decode("utf-8", "ignore").encode()
        write(seeds + "text-bl-%03d" % i, b"\x01" + t)
        write(seeds + "text-spm-%03d" % i, b"\x02" + t)
    write(seeds + "text-bl-nospecial", b"\x05" + "<|endoftext|><tool_call> x".encode())
    write(seeds + "text-spm-noprefix", b"\x0e" + "<s> def f(): </s>".encode())
    write(seeds + "text-bl-badutf8", b"\x01" + b"abc\xc3(\xff\xfe")


if __name__ == "__main__":
    main()
