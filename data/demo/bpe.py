"""Byte-level BPE in pure Python: the pre-tokenizer, the byte alphabet and an encoder for the demo
tokenizer (data/demo/tokenizer.json). Used by train_tokenizer.py (which learns the merges) and
train.py (which encodes the corpus). Needs the `regex` module (Debian: python3-regex) for \\p{L}.

The encoder follows Hugging Face `tokenizers` for this tokenizer.json: added tokens matched first
(optional), then the Split regex (Isolated), the GPT-2 byte-to-unicode map, and BPE by merge rank
within each piece. coldtok and @lenml/tokenizers give the same ids (tests/cli_demo_tokenizer.sh).
"""
import json

import regex

# Qwen2's pre-tokenizer (as tokenizer.json's Split pattern): contractions, letters with one leading
# non-letter, single digits, punctuation runs with their newlines, newline runs with the indentation
# before them, whitespace runs that keep the last space for the next word.
SPLIT_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
SPLIT = regex.compile(SPLIT_PATTERN)


def bytes_to_unicode():
    """GPT-2's reversible map from the 256 byte values to printable characters."""
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


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def to_symbols(piece):
    """A pre-tokenized piece (str) as its byte-level string: one character per UTF-8 byte."""
    return "".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))


def from_symbols(s):
    return bytes(CHAR_TO_BYTE[c] for c in s)


class Encoder:
    """Encodes text with a byte-level BPE tokenizer.json of the demo's form."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            tj = json.load(f)
        model = tj["model"]
        self.vocab = model["vocab"]
        merges = model["merges"]
        self.ranks = {}
        for i, m in enumerate(merges):
            a, b = m.split(" ") if isinstance(m, str) else m
            self.ranks[(a, b)] = i
        self.added = {t["content"]: t["id"] for t in tj.get("added_tokens", [])}
        self.id_to_piece = {i: p for p, i in self.vocab.items()}
        for c, i in self.added.items():
            self.id_to_piece[i] = c
        self.added_re = regex.compile("|".join(regex.escape(c) for c in
                                               sorted(self.added, key=len, reverse=True))) if self.added else None
        self.cache = {}

    def bpe(self, sym):
        """Ids of one byte-level piece: merge the lowest-ranked adjacent pair until none applies."""
        ids = self.cache.get(sym)
        if ids is not None:
            return ids
        parts = list(sym)
        ranks = self.ranks
        while len(parts) > 1:
            best, bi = None, -1
            for i in range(len(parts) - 1):
                r = ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            a, b = parts[bi], parts[bi + 1]
            merged, i = [], 0
            while i < len(parts):  # merge every occurrence of this pair, left to right
                if i < len(parts) - 1 and parts[i] == a and parts[i + 1] == b:
                    merged.append(a + b)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        ids = [self.vocab[p] for p in parts]
        if len(self.cache) < 2_000_000:
            self.cache[sym] = ids
        return ids

    def encode_plain(self, text):
        out = []
        for piece in SPLIT.findall(text):
            out.extend(self.bpe(to_symbols(piece)))
        return out

    def encode(self, text, special=True):
        """Token ids of text; with special, added-token texts inside it become their ids (as HF)."""
        if not special or self.added_re is None:
            return self.encode_plain(text)
        out, pos = [], 0
        for m in self.added_re.finditer(text):
            out.extend(self.encode_plain(text[pos:m.start()]))
            out.append(self.added[m.group(0)])
            pos = m.end()
        out.extend(self.encode_plain(text[pos:]))
        return out

    def decode(self, ids):
        parts = []
        for i in ids:
            p = self.id_to_piece[i]
            parts.append(p.encode("utf-8") if p in self.added else from_symbols(p))
        return b"".join(parts).decode("utf-8", errors="replace")
