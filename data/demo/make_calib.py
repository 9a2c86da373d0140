#!/usr/bin/python3
"""Writes the demo's calibration sets (data/demo/calib/) from the train split of the demo corpus
(data/corpus/build.sh), so that `make demo` needs no corpus and never calibrates on the held-out
files it evaluates on:
  code.txt   the first CODE_BYTES of the first two train files of every code language, cut at line ends
  text.txt   the first TEXT_BYTES of English prose (Debian documentation), files in corpus order
  SOURCES.tsv which package and file each piece comes from.
The mixed set is both files (`coldtok quantize --calib code.txt --calib text.txt`).
    /usr/bin/python3 data/demo/make_calib.py [CORPUS]"""
import csv
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CODE_BYTES, FILES_PER_LANG, TEXT_BYTES = 2048, 2, 24576


def head(path, limit):
    """The file's first lines, whole, up to limit bytes (at least one line)."""
    out = b""
    with open(path, "rb") as f:
        for line in f:
            if out and len(out) + len(line) > limit:
                break
            out += line
    return out.decode("utf-8")


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "corpus")
    rows = [r for r in csv.DictReader(open(os.path.join(corpus, "files.tsv")), delimiter="\t") if r["split"] == "train"]
    out = os.path.join(ROOT, "data", "demo", "calib")
    os.makedirs(out, exist_ok=True)
    code, text, sources, taken = [], [], [], {}
    for r in rows:
        path = os.path.join(corpus, "train", r["lang"], r["file"])
        if r["lang"] == "english":
            if sum(len(t.encode()) for t in text) >= TEXT_BYTES:
                continue
            piece = head(path, TEXT_BYTES - sum(len(t.encode()) for t in text))
            text.append(piece)
        else:
            if taken.get(r["lang"], 0) >= FILES_PER_LANG:
                continue
            taken[r["lang"]] = taken.get(r["lang"], 0) + 1
            piece = head(path, CODE_BYTES)
            code.append(piece)
        sources.append((("text.txt" if r["lang"] == "english" else "code.txt"), r["lang"], r["package"],
                        r["version"], r["path"], len(piece.encode())))
    with open(os.path.join(out, "code.txt"), "w") as f:
        f.write("\n".join(code))
    with open(os.path.join(out, "text.txt"), "w") as f:
        f.write("\n".join(text))
    with open(os.path.join(out, "SOURCES.tsv"), "w") as f:
        f.write("# Calibration sets of `make demo` (data/demo/make_calib.py): the first lines of these files of\n"
                "# the demo corpus's train split, from the Debian 12 packages named (licences: data/samples/SOURCES.tsv\n"
                "# explains how to find them; the same packages).\n")
        f.write("set\tlang\tpackage\tversion\tpath\tbytes\n")
        for s in sources:
            f.write("\t".join(map(str, s)) + "\n")
    print(f"code.txt {sum(len(c.encode()) for c in code)} bytes, text.txt {sum(len(t.encode()) for t in text)} bytes")


if __name__ == "__main__":
    main()
