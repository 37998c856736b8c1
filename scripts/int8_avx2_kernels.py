"""Accuracy of torch dynamic int8 with fbgemm limited to its AVX2 kernels (vpmaddubsw, int16 pair
sums that saturate), as an AVX2-only CPU computes it, against the same on this CPU's VNNI
kernels. FBGEMM_ENABLE_INSTRUCTIONS caps fbgemm's instruction set (fbgemm/src/Utils.cc); it is
read once, at the first quantized call, so each mode runs in its own process.
Accuracy only: the speed of AVX2 kernels on an AVX-512 CPU is not an AVX2 CPU's speed.

    FBGEMM_ENABLE_INSTRUCTIONS=AVX2 python -m scripts.int8_avx2_kernels avx2.json
    python -m scripts.int8_avx2_kernels native.json

(the built-in model's adapted baseline must be cached: run the default benchmark once first).
The 7-bit variants must give the same predictions in both modes (7 bits cannot saturate): the
check that the cap took effect is that the 8-bit ones do not."""

import json
import os
import sys
import time

import torch

torch.set_num_threads(2)
from lib import datasets  # noqa: E402 - after the thread count
from lib.measure import stats  # noqa: E402
from lib.models import load as models  # noqa: E402
from lib.spec import RunSpec, default_spec_dict  # noqa: E402
from lib.techniques import BuildContext, apply_chain, parse_variant  # noqa: E402
from lib.training import adapt  # noqa: E402
from lib.training.loop import teacher_logits  # noqa: E402

spec = RunSpec.from_dict(default_spec_dict())
data = datasets.load(spec.dataset)
train, evals = datasets.split(
    data, spec.dataset.train_limit, spec.dataset.eval_limit, spec.dataset.seed
)
base = adapt.prepare_baseline(spec.model, spec.dataset, train, spec.adapt)
assert base.cached, "expected the cached adapted baseline"
tok = models.load_tokenizer(base.path)
out = {
    "isa_cap": os.environ.get("FBGEMM_ENABLE_INSTRUCTIONS"),
    "n_eval": len(evals),
    "variants": {},
}
preds = {}
for v in ["fp32", "int8", "int8:per-tensor", "int8:per-channel", "int8:per-tensor/full-range"]:
    model = models.load_classifier(base.path)
    ctx = BuildContext(base_path=base.path, tokenizer=tok, train=train, device="cpu")
    model = apply_chain(model, parse_variant(v), ctx).eval()
    t0 = time.perf_counter()
    logits = teacher_logits(model, tok, evals, max_length=128, batch_size=64)
    secs = time.perf_counter() - t0
    p = logits.argmax(-1).numpy()
    preds[v] = p
    acc = float((p == evals.labels).mean())
    row = {
        "accuracy": acc,
        "seconds": round(secs, 2),
        "int8_backend": ctx.notes.get("int8_backend"),
    }
    if v != "fp32":
        row["delta_points"] = round(100 * (acc - out["variants"]["fp32"]["accuracy"]), 2)
        row["p_value"] = stats.mcnemar_p(preds["fp32"] == evals.labels, p == evals.labels)
        row["agreement"] = float((p == preds["fp32"]).mean())
    out["variants"][v] = row
    print(v, row, flush=True)
json.dump(out, open(sys.argv[1], "w"), indent=1)
