#!/usr/bin/python3
"""Trains the demo model family on the demo corpus: a teacher, a student distilled from it, and the
student's architecture trained without distillation (the baseline). Debian's python3-torch, CPU.

    /usr/bin/python3 data/demo/train.py [--teacher-steps N] [--student-steps N] [--minutes M] ...

Phases (each skipped when --work records that its output folder holds a model finished with the
same settings, so a rerun after an interruption redoes only what is missing; with --resume an
unfinished phase continues from its last checkpoint, written every --ckpt-minutes):
  teacher    Llama architecture: hidden 256, FFN 768 (SwiGLU), --teacher-layers layers, 4 heads of
             64 with 2 KV heads (GQA), RMSNorm, rotate-half RoPE (theta 10000), tied embeddings;
             cross-entropy on next tokens.
  baseline   the student architecture (half the layers), cross-entropy only.
  student    the same architecture and initial weights, trained on the same batches with
             loss = alpha * tau^2 * KL(softmax(z_teacher / tau) || softmax(z_student / tau))
                    + (1 - alpha) * cross-entropy,           tau = --tau (2.0), alpha = --alpha (0.5)
             (Hinton et al. 2015; the tau^2 keeps the soft term's gradients on the scale of the hard one).
Data: every file of the corpus's train split (code languages; --langs) encoded with the demo tokenizer
(data/demo/bpe.py, identical ids to coldtok) and prefixed by <|endoftext|>, which is the models' BOS:
a cold start (coldtok probe) asks what follows it. Each batch holds --batch windows of --seq + 1 tokens;
a window starts at a file's <|endoftext|> with probability --p-doc-start, else anywhere. The windows of
step s depend only on (--seed, s), so the two students see the same data and a resumed run the same
batches. AdamW (betas 0.9/0.95, weight decay 0.1 on matrices), --lr with linear warm-up then cosine
decay to 10%, gradient clipping at 1.0, float32 (--amp: bf16 autocast, fp32 master weights).
Evaluation: mean next-token loss on the held-out split of every language (english included: text
the models were not trained on), over up to --eval-tokens tokens per language, and bits per byte
(loss / ln 2 * tokens / bytes).
Outputs: OUT/teacher/ and OUT/student/ as Hugging Face folders (config.json, model.safetensors in F16,
tokenizer.json, tokenizer_config.json); the baseline in --work/baseline/ (not committed);
OUT/training-report.md and OUT/heldout-loss.csv; checkpoints in --work/.
--minutes M: measure the speed over the first steps, then size every phase to fit M minutes in all
(the step counts are printed; pass them as --teacher-steps/--student-steps to repeat the run exactly).
Determinism: same settings, same torch build, same BLAS and --threads give the same weights.
Speed: Debian's torch calls libblas.so.3; the reference BLAS is ~10x slower than OpenBLAS
(apt-get install libopenblas0-pthread). A warning is printed when the reference BLAS is in use.
"""
import argparse
import hashlib
import json
import math
import os
import shutil
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EOT = "<|endoftext|>"


def log(msg):
    print(f"train.py: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The model: Hugging Face's LlamaForCausalLM, written out (transformers is not in Debian 12).

class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        E, H, KV, hd, FF = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], \
            c["head_dim"], c["intermediate_size"]
        self.H, self.KV, self.hd = H, KV, hd
        self.input_layernorm = RMSNorm(E, c["rms_norm_eps"])
        self.q_proj = nn.Linear(E, H * hd, bias=False)
        self.k_proj = nn.Linear(E, KV * hd, bias=False)
        self.v_proj = nn.Linear(E, KV * hd, bias=False)
        self.o_proj = nn.Linear(H * hd, E, bias=False)
        self.post_attention_layernorm = RMSNorm(E, c["rms_norm_eps"])
        self.gate_proj = nn.Linear(E, FF, bias=False)
        self.up_proj = nn.Linear(E, FF, bias=False)
        self.down_proj = nn.Linear(FF, E, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape  # x: [B, T, E]
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, T, self.H, self.hd).transpose(1, 2)  # [B, H, T, hd]
        k = self.k_proj(h).view(B, T, self.KV, self.hd).transpose(1, 2)  # [B, KV, T, hd]
        v = self.v_proj(h).view(B, T, self.KV, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.H // self.KV  # GQA: KV head j serves query heads j*rep .. j*rep+rep-1
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.hd)) + mask  # [B, H, T, T]
        y = F.softmax(att, dim=-1) @ v  # [B, H, T, hd]
        x = x + self.o_proj(y.transpose(1, 2).reshape(B, T, self.H * self.hd))
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(Block(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        hd = c["head_dim"]
        inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        self.register_buffer("inv_freq", inv_freq.float(), persistent=False)

    def init_weights(self, gen):
        """Normal(0, 0.02) everywhere; the projections into the residual stream scaled by
        1/sqrt(2 * layers) (GPT-2), norms at 1."""
        std = self.c["initializer_range"]
        for name, p in self.named_parameters():
            if name.endswith("layernorm.weight") or name == "norm.weight":
                nn.init.ones_(p)
            else:
                s = std / math.sqrt(2 * len(self.layers)) if name.endswith(("o_proj.weight", "down_proj.weight")) else std
                with torch.no_grad():
                    p.copy_(torch.randn(p.shape, generator=gen) * s)

    def forward(self, ids):
        B, T = ids.shape  # ids: [B, T] -> logits [B, T, V]
        pos = torch.arange(T, dtype=torch.float32)
        freqs = torch.outer(pos, self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]  # [1, 1, T, hd]
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.norm(x) @ self.embed_tokens.weight.t()  # tied output

    def hf_state(self):
        """The weights under Hugging Face's names."""
        out = {"model.embed_tokens.weight": self.embed_tokens.weight, "model.norm.weight": self.norm.weight}
        for i, l in enumerate(self.layers):
            p = f"model.layers.{i}."
            out[p + "input_layernorm.weight"] = l.input_layernorm.weight
            out[p + "post_attention_layernorm.weight"] = l.post_attention_layernorm.weight
            for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
                out[p + f"self_attn.{n}.weight"] = getattr(l, n).weight
            for n in ("gate_proj", "up_proj", "down_proj"):
                out[p + f"mlp.{n}.weight"] = getattr(l, n).weight
        return out

    def load_hf_state(self, tensors):
        own = self.hf_state()
        if set(own) != set(tensors):
            raise ValueError(f"tensor names differ: {sorted(set(own) ^ set(tensors))[:4]}")
        with torch.no_grad():
            for k, p in own.items():
                p.copy_(tensors[k].float())


def hf_config(layers, args, vocab, eot_id):
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "vocab_size": vocab, "hidden_size": 256, "intermediate_size": 768,
        "num_hidden_layers": layers, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64,
        "max_position_embeddings": 1024, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": None,
        "hidden_act": "silu", "tie_word_embeddings": True, "attention_bias": False, "mlp_bias": False,
        "initializer_range": 0.02, "bos_token_id": eot_id, "eos_token_id": eot_id, "torch_dtype": "float16",
    }


# ---------------------------------------------------------------------------------------------
# safetensors by hand: 8 bytes little-endian header length, JSON header, raw little-endian data.

ST_DTYPES = {torch.float16: "F16", torch.float32: "F32", torch.bfloat16: "BF16"}
ST_TORCH = {v: k for k, v in ST_DTYPES.items()}


def save_safetensors(path, tensors, dtype=torch.float16):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(dtype).contiguous()
        if not torch.isfinite(t.float()).all():
            raise ValueError(f"{name}: not finite in {ST_DTYPES[dtype]}")
        b = t.view(torch.int16).numpy().tobytes() if dtype != torch.float32 else t.numpy().tobytes()
        header[name] = {"dtype": ST_DTYPES[dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        dt = ST_TORCH[info["dtype"]]
        raw = bytearray(data[8 + n + a:8 + n + b])
        if dt == torch.float32:
            t = torch.frombuffer(raw, dtype=torch.float32)
        else:
            t = torch.frombuffer(raw, dtype=torch.int16).view(dt)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def save_hf(model, folder, config, tokenizer_dir):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    save_safetensors(os.path.join(folder, "model.safetensors"), model.hf_state())
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tokenizer_dir, name), os.path.join(folder, name))


# ---------------------------------------------------------------------------------------------
# Data

def encode_split(enc, corpus, split, langs, eot):
    """{lang: (ids int16 tensor, bytes)}: each file as <|endoftext|> + its tokens."""
    out = {}
    for lang in langs:
        d = os.path.join(corpus, split, lang)
        ids, nbytes = [], 0
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), encoding="utf-8", newline="") as f:
                text = f.read()
            nbytes += len(text.encode("utf-8"))
            ids.append(eot)
            ids.extend(enc.encode(text, special=False))
        out[lang] = (torch.tensor(ids, dtype=torch.int16), nbytes)
    return out


def load_data(args, tok_path):
    """Encoded train and held-out splits, cached in --work by the tokenizer's and corpus's hash."""
    h = hashlib.sha256(open(tok_path, "rb").read())
    for split in ("train", "heldout"):
        for lang in sorted(os.listdir(os.path.join(args.corpus, split))):
            for name in sorted(os.listdir(os.path.join(args.corpus, split, lang))):
                h.update(f"{split}/{lang}/{name}\0".encode())
    cache = os.path.join(args.work, f"tokens-{h.hexdigest()[:16]}.pt")
    if os.path.exists(cache):
        return torch.load(cache)
    enc = bpe.Encoder(tok_path)
    eot = enc.added[EOT]
    t0 = time.time()
    all_langs = sorted(os.listdir(os.path.join(args.corpus, "heldout")))
    data = {"train": encode_split(enc, args.corpus, "train", all_langs, eot),
            "heldout": encode_split(enc, args.corpus, "heldout", all_langs, eot)}
    log(f"encoded the corpus in {time.time() - t0:.0f} s: " + ", ".join(
        f"{l} {data['train'][l][0].numel() / 1e6:.2f}M" for l in all_langs) + " train tokens")
    os.makedirs(args.work, exist_ok=True)
    torch.save(data, cache)
    return data


class Batches:
    """The windows of step s: a function of (seed, s) only."""

    def __init__(self, data, langs, eot, seq, batch, p_doc_start, seed):
        self.ids = torch.cat([data["train"][l][0] for l in langs]).long()
        starts = (self.ids == eot).nonzero().flatten().numpy()
        self.starts = starts[starts + seq + 1 <= self.ids.numel()]
        self.seq, self.batch, self.p, self.seed = seq, batch, p_doc_start, seed

    def get(self, step):
        rng = np.random.default_rng([self.seed, step])
        n = self.ids.numel() - self.seq - 1
        at_doc = rng.random(self.batch) < self.p
        offs = np.where(at_doc, self.starts[rng.integers(0, len(self.starts), self.batch)],
                        rng.integers(0, n + 1, self.batch))
        w = torch.stack([self.ids[o:o + self.seq + 1] for o in offs])
        return w[:, :-1], w[:, 1:]


@torch.no_grad()
def evaluate(model, data, seq, max_tokens, batch=16):
    """{lang: (mean loss in nats, tokens, bits per byte)} on the held-out split."""
    model.eval()
    out = {}
    for lang, (ids, nbytes) in data["heldout"].items():
        ids = ids.long()
        n = min(ids.numel() - 1, max_tokens)
        wins = [(o, min(seq, n - o)) for o in range(0, n, seq)]
        tot, cnt = 0.0, 0
        for i in range(0, len(wins), batch):
            group = wins[i:i + batch]
            L = max(l for _, l in group)
            x = torch.zeros(len(group), L, dtype=torch.long)
            y = torch.full((len(group), L), -100, dtype=torch.long)
            for j, (o, l) in enumerate(group):
                x[j, :l] = ids[o:o + l]
                y[j, :l] = ids[o + 1:o + 1 + l]
            logits = model(x)
            tot += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100,
                                   reduction="sum").item()
            cnt += int((y != -100).sum())
        loss = tot / cnt
        # bits per byte with the split's mean bytes per text token (the <|endoftext|> not counted)
        bytes_per_token = nbytes / max(1, ids.numel() - int((ids == data["eot"]).sum()))
        out[lang] = (loss, cnt, loss / math.log(2) / bytes_per_token)
    model.train()
    return out


# ---------------------------------------------------------------------------------------------
# Training

def lr_at(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def make_optimizer(model, lr):
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    other = [p for n, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.95), eps=1e-8)


def train_phase(name, model, batches, steps, args, teacher=None):
    """Trains model for steps steps; checkpoints to --work; returns seconds per step."""
    opt = make_optimizer(model, args.lr)
    ckpt = os.path.join(args.work, f"ckpt-{name}.pt")
    step = 0
    if args.resume and os.path.exists(ckpt):
        st = torch.load(ckpt)
        if st["steps"] == steps and st["settings"] == settings_key(args):
            model.load_state_dict(st["model"])
            opt.load_state_dict(st["opt"])
            step = st["step"]
            log(f"{name}: resumed at step {step}/{steps}")
    warmup = min(args.warmup, max(1, steps // 10))
    t0, first = time.time(), step
    last_ckpt, ema = t0, None
    model.train()
    while step < steps:
        x, y = batches.get(step)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, args.lr, warmup)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.amp):
            logits = model(x).float()
        V = logits.shape[-1]
        ce = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        if teacher is not None:
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.amp):
                t_logits = teacher(x).float()
            tau = args.tau
            kl = F.kl_div(F.log_softmax(logits.reshape(-1, V) / tau, dim=-1),
                          F.log_softmax(t_logits.reshape(-1, V) / tau, dim=-1),
                          log_target=True, reduction="batchmean") * tau * tau
            loss = args.alpha * kl + (1 - args.alpha) * ce
        else:
            loss = ce
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        ema = ce.item() if ema is None else 0.98 * ema + 0.02 * ce.item()
        now = time.time()
        if step % args.log_every == 0 or step == steps:
            rate = (now - t0) / (step - first)
            log(f"{name}: step {step}/{steps} ce {ce.item():.3f} (avg {ema:.3f})"
                + (f" loss {loss.item():.3f}" if teacher is not None else "")
                + f" lr {opt.param_groups[0]['lr']:.2e} {rate:.2f} s/step")
        if now - last_ckpt > args.ckpt_minutes * 60 and step < steps:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "steps": steps,
                        "settings": settings_key(args)}, ckpt + ".tmp")
            os.replace(ckpt + ".tmp", ckpt)  # a run killed while saving keeps the previous one
            last_ckpt = now
    if os.path.exists(ckpt):
        os.remove(ckpt)
    return (time.time() - t0) / max(1, steps - first)


def phase_key(phase, args):
    return {"phase": phase, "steps": args.teacher_steps if phase == "teacher" else args.student_steps,
            **settings_key(args)}


def finished(folder, phase, args):
    """True when folder holds this phase's model trained with these settings."""
    try:
        with open(os.path.join(args.work, f"finished-{phase}.json")) as f:
            return json.load(f) == phase_key(phase, args) and \
                os.path.exists(os.path.join(folder, "model.safetensors"))
    except (OSError, ValueError):
        return False


def mark_finished(folder, phase, args):
    with open(os.path.join(args.work, f"finished-{phase}.json"), "w") as f:
        json.dump(phase_key(phase, args), f)


def settings_key(args):
    keys = ("seed", "teacher_layers", "seq", "batch", "lr", "warmup", "tau", "alpha", "p_doc_start", "langs",
            "amp")
    return {k: getattr(args, k) for k in keys}


def new_model(layers, args, vocab, eot, init_seed):
    c = hf_config(layers, args, vocab, eot)
    m = Llama(c)
    m.init_weights(torch.Generator().manual_seed(init_seed))
    return m, c


def blas_warning():
    try:
        maps = open("/proc/self/maps").read()
    except OSError:
        return
    for line in maps.splitlines():
        if "libblas.so" in line:
            p = os.path.realpath(line.split()[-1])
            if "/blas/" in p and "openblas" not in p:
                log(f"warning: torch uses the reference BLAS ({p}), about 10x slower than OpenBLAS: "
                    "apt-get install libopenblas0-pthread")
            return


@torch.no_grad()
def sample(model, enc, prompt, n, gen, top_k=20, temp=0.8):
    model.eval()
    ids = [enc.added[EOT]] + enc.encode(prompt, special=False)
    for _ in range(n):
        logits = model(torch.tensor([ids[-model.c["max_position_embeddings"]:]]))[0, -1] / temp
        v, i = logits.topk(top_k)
        nxt = i[torch.multinomial(F.softmax(v, -1), 1, generator=gen)].item()
        if nxt == enc.added[EOT]:
            break
        ids.append(nxt)
    model.train()
    return prompt + enc.decode(ids[1 + len(enc.encode(prompt, special=False)):])


PROMPTS = ["def ", "#include <", "package main\n\nimport (\n", "public class ", "fn main() {\n",
           "<?php\n", "SELECT ", "#!/bin/sh\n", "function ", "require '"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "corpus"))
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "data", "demo", "tokenizer.json"))
    ap.add_argument("--out", default=os.path.join(ROOT, "data", "demo"), help="teacher/, student/, report")
    ap.add_argument("--work", default=os.path.join(ROOT, "corpus", "demo-work"),
                    help="token cache, checkpoints, the baseline model")
    ap.add_argument("--teacher-layers", type=int, default=4)
    ap.add_argument("--teacher-steps", type=int, default=4000)
    ap.add_argument("--student-steps", type=int, default=0, help="default: as --teacher-steps")
    ap.add_argument("--minutes", type=float, default=0, help="size the phases to this wall-clock budget")
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--tau", type=float, default=2.0)
    ap.add_argument("--alpha", type=float, default=0.5)
    ap.add_argument("--p-doc-start", type=float, default=0.25)
    ap.add_argument("--langs", default="", help="comma-separated training languages (default: all but english)")
    ap.add_argument("--eval-tokens", type=int, default=32768, help="per language")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--amp", action="store_true",
                    help="bf16 autocast for the matmuls (about 1.5x faster on CPUs with AVX512-BF16)")
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--ckpt-minutes", type=float, default=10)
    ap.add_argument("--resume", action="store_true", help="continue a phase from its checkpoint")
    ap.add_argument("--phases", default="teacher,baseline,student")
    ap.add_argument("--sample-tokens", type=int, default=48)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    blas_warning()
    if not os.path.isdir(os.path.join(args.corpus, "train")):
        sys.exit(f"train.py: {args.corpus}/train absent: run data/corpus/build.sh first")
    os.makedirs(args.work, exist_ok=True)
    tok_dir = os.path.dirname(os.path.abspath(args.tokenizer))
    enc = bpe.Encoder(args.tokenizer)
    eot = enc.added[EOT]
    vocab = max(max(enc.vocab.values()), max(enc.added.values())) + 1
    data = load_data(args, args.tokenizer)
    data["eot"] = eot
    all_langs = sorted(data["train"])
    langs = args.langs.split(",") if args.langs else [l for l in all_langs if l != "english"]
    args.langs = ",".join(langs)
    batches = Batches(data, langs, eot, args.seq, args.batch, args.p_doc_start, args.seed)
    log(f"{batches.ids.numel() / 1e6:.2f}M train tokens in {len(langs)} languages, "
        f"{args.batch}x{args.seq} tokens per step")
    blas_warning()

    sl = args.teacher_layers // 2
    if args.minutes > 0:  # measure a few steps of each kind, then fit the budget
        probe_t, _ = new_model(args.teacher_layers, args, vocab, eot, args.seed)
        probe_s, _ = new_model(sl, args, vocab, eot, args.seed + 1)
        st = train_phase("probe-t", probe_t, batches, 5, args)
        ss = train_phase("probe-s", probe_s, batches, 5, args)
        sd = train_phase("probe-d", probe_s, batches, 5, args, teacher=probe_t)
        per = st + ss + sd  # one teacher step + one baseline step + one distillation step
        args.teacher_steps = args.student_steps = max(10, int(args.minutes * 60 * 0.92 / per))
        log(f"--minutes {args.minutes:g}: {st:.2f}/{ss:.2f}/{sd:.2f} s per teacher/baseline/student step "
            f"-> --teacher-steps {args.teacher_steps} --student-steps {args.student_steps}")
    if args.student_steps <= 0:
        args.student_steps = args.teacher_steps

    phases = args.phases.split(",")
    results, timing = {}, {}
    tcfg = hf_config(args.teacher_layers, args, vocab, eot)
    teacher_dir = os.path.join(args.out, "teacher")
    teacher, _ = new_model(args.teacher_layers, args, vocab, eot, args.seed)
    if "teacher" in phases and not finished(teacher_dir, "teacher", args):
        timing["teacher"] = train_phase("teacher", teacher, batches, args.teacher_steps, args)
        save_hf(teacher, teacher_dir, tcfg, tok_dir)
        mark_finished(teacher_dir, "teacher", args)
        log(f"teacher saved to {teacher_dir}")
    else:
        log(f"teacher: loading {teacher_dir}")
        teacher.load_hf_state(load_safetensors(os.path.join(teacher_dir, "model.safetensors")))
    teacher.eval()
    # the students start from the same weights; their steps see the same batches
    for phase in ("baseline", "student"):
        folder = os.path.join(args.out, "student") if phase == "student" else os.path.join(args.work, "baseline")
        if phase not in phases:
            continue
        if finished(folder, phase, args):
            log(f"{phase}: {folder} is finished with these settings, skipped")
            continue
        m, cfg = new_model(sl, args, vocab, eot, args.seed + 1)
        timing[phase] = train_phase(phase, m, batches, args.student_steps, args,
                                    teacher=teacher if phase == "student" else None)
        save_hf(m, folder, cfg, tok_dir)
        mark_finished(folder, phase, args)
        log(f"{phase} saved to {folder}")
    # evaluate what was saved (F16 weights, as coldtok reads them)
    folders = {"teacher": teacher_dir, "student": os.path.join(args.out, "student"),
               "baseline": os.path.join(args.work, "baseline")}
    models = {}
    for name, folder in folders.items():
        f = os.path.join(folder, "model.safetensors")
        if not os.path.exists(f):
            continue
        cfg = json.load(open(os.path.join(folder, "config.json")))
        m = Llama(cfg)
        m.load_hf_state(load_safetensors(f))
        models[name] = m
        t0 = time.time()
        results[name] = evaluate(m, data, args.seq, args.eval_tokens)
        log(f"evaluated {name} in {time.time() - t0:.0f} s: mean held-out loss "
            f"{np.mean([v[0] for l, v in results[name].items() if l in langs]):.3f} (training languages)")
    samples = {}
    for name in ("teacher", "student"):
        if name in models:
            gen = torch.Generator().manual_seed(args.seed)
            samples[name] = [(p, sample(models[name], enc, p, args.sample_tokens, gen)) for p in PROMPTS]
    write_report(args, results, timing, samples, langs, vocab)


def write_report(args, results, timing, samples, langs, vocab):
    names = [n for n in ("teacher", "student", "baseline") if n in results]
    with open(os.path.join(args.out, "heldout-loss.csv"), "w") as f:
        f.write("model,lang,trained_on,tokens,loss_nats,perplexity,bits_per_byte\n")
        for n in names:
            for lang, (loss, cnt, bpb) in sorted(results[n].items()):
                f.write(f"{n},{lang},{int(lang in langs)},{cnt},{loss:.4f},{math.exp(loss):.2f},{bpb:.4f}\n")
    lines = ["# Demo model family: training report", "",
             "Written by `data/demo/train.py` (see docs/demo.md).", "",
             "## Settings", "", "```", " ".join(sys.argv), "", json.dumps({
                 "teacher_steps": args.teacher_steps, "student_steps": args.student_steps,
                 **settings_key(args), "vocab": vocab, "threads": args.threads,
                 "torch": torch.__version__}, indent=1), "```", ""]
    if timing:
        lines += ["## Time", "", "| phase | s/step | steps | minutes |", "|---|---|---|---|"]
        for n, t in timing.items():
            steps = args.teacher_steps if n == "teacher" else args.student_steps
            lines.append(f"| {n} | {t:.2f} | {steps} | {t * steps / 60:.1f} |")
        lines.append("")
    if names:
        lines += ["## Held-out loss (nats per token; bits per byte in brackets)", "",
                  "| lang | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        for lang in sorted(results[names[0]]):
            mark = "" if lang in langs else " (not trained on)"
            lines.append(f"| {lang}{mark} | " + " | ".join(
                f"{results[n][lang][0]:.3f} ({results[n][lang][2]:.2f})" for n in names) + " |")
        lines.append("| mean (trained) | " + " | ".join(
            f"{np.mean([results[n][l][0] for l in langs]):.3f}" for n in names) + " |")
        lines.append("")
    for n, ss in samples.items():
        lines += [f"## Samples from the {n} (top-20, temperature 0.8, seed {args.seed})", ""]
        for p, s in ss:
            lines += ["```", s.replace("```", "` ` `"), "```", ""]
    with open(os.path.join(args.out, "training-report.md"), "w") as f:
        f.write("\n".join(lines))
    log(f"wrote {os.path.join(args.out, 'training-report.md')} and heldout-loss.csv")


if __name__ == "__main__":
    main()
