#!/usr/bin/python3
"""Expected cold-start drift of the stories260K variants from the F32 model, computed from the
fixtures' float64 dequant reference logits (independent of coldtok's forward pass).

Writes tests/data/stories260K-drift.csv: one row per variant with KL(P||Q), KL(Q||P), JS, TV and
top-1 agreement between softmax(F32 logits) and softmax(variant logits) after BOS.
Run: /usr/bin/python3 tests/reference/stories_drift.py [FIXTURES]   (make references)"""
import csv
import os
import sys

import numpy as np

fixtures = sys.argv[1] if len(sys.argv) > 1 else "../shared/fixtures"
folder = os.path.join(fixtures, "models", "stories260K")


def log_softmax(path):
    z = np.fromfile(os.path.join(folder, path), dtype="<f4").astype(np.float64)
    return z - (z.max() + np.log(np.exp(z - z.max()).sum()))


lp = log_softmax("stories260K-F32.dequant.logits.f32")
p = np.exp(lp)
rows = []
for variant in ["F16", "Q8_0mix", "Q5_0mix", "Q4_0mix"]:
    lq = log_softmax(f"stories260K-{variant}.dequant.logits.f32")
    q = np.exp(lq)
    lm = np.logaddexp(lp, lq) - np.log(2)
    rows.append({
        "variant": f"stories260K-{variant}",
        "kl_pq": float((p * (lp - lq)).sum()),
        "kl_qp": float((q * (lq - lp)).sum()),
        "js": float(((p * (lp - lm)).sum() + (q * (lq - lm)).sum()) / 2),
        "tv": float(np.abs(p - q).sum() / 2),
        "top1_agree": int(p.argmax() == q.argmax()),
    })
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "stories260K-drift.csv")
with open(out, "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0]))
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.10g}" if isinstance(v, float) else v) for k, v in r.items()})
print(open(out).read())
