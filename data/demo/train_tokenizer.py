#!/usr/bin/python3
"""Trains the demo tokenizer: byte-level BPE on the train split of the demo corpus.

    /usr/bin/python3 data/demo/train_tokenizer.py [--corpus corpus] [--out data/demo/tokenizer.json]
                                                   [--vocab 8192] [--langs LIST]

Pure Python (Debian 12 has no python3-tokenizers; it needs python3-regex). Steps:
  1. pre-tokenize every train file of the chosen languages (default: all but english) with Qwen2's
     Split regex (bpe.SPLIT_PATTERN) and count the distinct pieces ("word types");
  2. start from the 256 byte symbols (GPT-2 byte-to-unicode alphabet) and repeat: merge the most
     frequent adjacent pair over all word types (weighted by their counts); ties go to the pair whose
     two symbols sort first as strings, so the result depends on nothing but the corpus. Pair counts
     are kept incrementally: a merge only revisits the word types that contain the pair, and a lazy
     max-heap finds the next pair;
  3. write a Hugging Face tokenizer.json: model BPE (vocab = bytes, then merges in order, then the
     special tokens), Split(regex, Isolated) + ByteLevel(use_regex false) pre-tokenizer, ByteLevel
     decoder, no normalizer; and tokenizer_config.json beside it (<|endoftext|> as BOS and EOS).
  4. print bytes per token on the held-out split of every language and write it as CSV next to
     the tokenizer (tokenizer-compression.csv).
"""
import argparse
import collections
import csv
import heapq
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

SPECIALS = ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|file_sep|>"]


def progress(msg):
    print(f"train_tokenizer: {msg}", file=sys.stderr, flush=True)


def corpus_files(corpus, split, langs):
    out = []
    for lang in langs:
        d = os.path.join(corpus, split, lang)
        out += [(lang, os.path.join(d, f)) for f in sorted(os.listdir(d))]
    return out


def count_words(files):
    counts = collections.Counter()
    for i, (_, path) in enumerate(files):
        with open(path, encoding="utf-8", newline="") as f:
            counts.update(bpe.SPLIT.findall(f.read()))
        if (i + 1) % 1000 == 0:
            progress(f"pre-tokenized {i + 1}/{len(files)} files, {len(counts)} word types")
    # to byte-level symbols; distinct pieces can not collide (the map is a bijection)
    return {bpe.to_symbols(w): c for w, c in counts.items()}


def learn(word_counts, n_tokens):
    """The merges (pairs of symbol strings), most frequent first, by incremental pair counting,
    until the vocabulary has n_tokens tokens. Two merges can make the same string ("ab"+"c" and
    "a"+"bc"): the second one then reuses the first one's token, as in Hugging Face's trainer."""
    symbols = [bpe.BYTE_TO_CHAR[b] for b in range(256)]  # id -> string
    sym_id = {s: i for i, s in enumerate(symbols)}
    words = [[sym_id[c] for c in w] for w in sorted(word_counts)]
    freq = [word_counts[w] for w in sorted(word_counts)]
    pair_count = collections.defaultdict(int)
    where = collections.defaultdict(set)  # pair -> indices of the words that contain it
    for wi, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += freq[wi]
            where[(a, b)].add(wi)
    heap = [(-c, symbols[a], symbols[b], a, b) for (a, b), c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    t0 = time.time()
    while len(symbols) < n_tokens and heap:
        negc, _, _, a, b = heapq.heappop(heap)
        if pair_count.get((a, b), 0) != -negc or negc == 0:
            continue  # stale heap entry
        s = symbols[a] + symbols[b]
        new = sym_id.get(s)
        if new is None:
            new = sym_id[s] = len(symbols)
            symbols.append(s)
        merges.append((symbols[a], symbols[b]))
        changed = set()
        for wi in sorted(where.pop((a, b))):
            w, f = words[wi], freq[wi]
            for p in zip(w, w[1:]):  # remove the word's old pairs ...
                pair_count[p] -= f
                changed.add(p)
            out, i = [], 0
            while i < len(w):
                if i < len(w) - 1 and w[i] == a and w[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[wi] = out
            for p in zip(out, out[1:]):  # ... and add its new ones
                pair_count[p] += f
                where[p].add(wi)
                changed.add(p)
        pair_count.pop((a, b), None)
        for p in changed:
            c = pair_count.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, symbols[p[0]], symbols[p[1]], p[0], p[1]))
            else:
                pair_count.pop(p, None)
        if len(merges) % 500 == 0:
            progress(f"{len(merges)} merges, {len(symbols)}/{n_tokens} tokens ({time.time() - t0:.0f} s), last "
                     f"{merges[-1][0] + merges[-1][1]!r} x{-negc}")
    return merges


def tokenizer_json(merges):
    vocab = {bpe.BYTE_TO_CHAR[b]: b for b in range(256)}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    added = [{"id": len(vocab) + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, s in enumerate(SPECIALS)]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": bpe.SPLIT_PATTERN}, "behavior": "Isolated", "invert": False},
            byte_level]},
        "post_processor": byte_level,
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }


def tokenizer_config(max_len):
    return {"add_bos_token": False, "add_eos_token": False, "bos_token": "<|endoftext|>",
            "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "unk_token": None,
            "clean_up_tokenization_spaces": False, "model_max_length": max_len,
            "tokenizer_class": "PreTrainedTokenizerFast"}


def write_json(path, obj):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)


def compression(tok_path, corpus, langs, csv_path):
    enc = bpe.Encoder(tok_path)
    rows = []
    for lang in langs:
        nb = nt = 0
        for _, path in corpus_files(corpus, "heldout", [lang]):
            with open(path, encoding="utf-8", newline="") as f:
                text = f.read()
            nb += len(text.encode("utf-8"))
            nt += len(enc.encode(text, special=False))
        rows.append([lang, nb, nt, round(nb / max(1, nt), 3)])
        progress(f"held-out {lang:<10} {nb:9,d} bytes {nt:8,d} tokens {nb / max(1, nt):.2f} bytes/token")
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["lang", "bytes", "tokens", "bytes_per_token"])
        w.writerows(rows)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=os.path.join(root, "corpus"))
    ap.add_argument("--out", default=os.path.join(root, "data", "demo", "tokenizer.json"))
    ap.add_argument("--vocab", type=int, default=8192, help="total ids, special tokens included")
    ap.add_argument("--langs", default="", help="comma-separated (default: every code language)")
    ap.add_argument("--max-len", type=int, default=1024, help="model_max_length in tokenizer_config.json")
    args = ap.parse_args()
    train_dir = os.path.join(args.corpus, "train")
    if not os.path.isdir(train_dir):
        sys.exit(f"train_tokenizer: {train_dir} absent: run data/corpus/build.sh first")
    all_langs = sorted(os.listdir(train_dir))
    langs = args.langs.split(",") if args.langs else [l for l in all_langs if l != "english"]
    files = corpus_files(args.corpus, "train", langs)
    t0 = time.time()
    words = count_words(files)
    progress(f"{len(files)} files, {len(words)} word types, {sum(words.values())} pieces "
             f"({time.time() - t0:.0f} s)")
    merges = learn(words, args.vocab - len(SPECIALS))
    progress(f"{len(merges)} merges in {time.time() - t0:.0f} s")
    write_json(args.out, tokenizer_json(merges))
    write_json(os.path.join(os.path.dirname(args.out), "tokenizer_config.json"), tokenizer_config(args.max_len))
    progress(f"wrote {args.out}")
    compression(args.out, args.corpus, all_langs,
                os.path.join(os.path.dirname(args.out), "tokenizer-compression.csv"))


if __name__ == "__main__":
    main()
