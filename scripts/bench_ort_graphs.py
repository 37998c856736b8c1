"""Time ONNX Runtime graph and session options against torch eager fp32, in interleaved rounds.

    .venv/bin/python -m scripts.bench_ort_graphs      (from the repository root)

What docs/runtimes.md quotes for "offline transformer fusions" and "spinning": the adapted
built-in model (from the cache a default run leaves in the data folder, else the raw built-in
model with an untrained head) exported as `@ort` does, then
- the fp32 and int8 (MatMul, per-channel) graphs that `@ort` serves, with spinning off and on;
- the graph fused ahead of time by onnxruntime.transformers' BERT optimizer, quantized with
  every op type (QAttention, int8 embeddings), per-channel and per-tensor.
Accuracy on 1,000 rotten-tomatoes eval texts when the head is trained. Prints p50 medians over
the rounds and the speed-up against torch.
"""

import statistics
import tempfile
import warnings
from pathlib import Path

import torch

from lib import datasets  # noqa: E402
from lib.measure import latency as measure
from lib.models import load as models  # noqa: E402
from lib.runtimes import ort as ro  # noqa: E402
from lib.spec import AdaptSpec, DatasetSpec, ModelSpec  # noqa: E402
from lib.training import adapt

ROUNDS = 6


def main() -> None:
    warnings.filterwarnings("ignore")
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    torch.set_num_threads(2)
    ds = DatasetSpec()
    train, evals = datasets.split(datasets.load(ds), ds.train_limit, ds.eval_limit, ds.seed)
    base = adapt.prepare_baseline(ModelSpec(), ds, train, AdaptSpec())  # cached after a run
    tok = models.load_tokenizer(base.path)
    model = models.load_classifier(base.path).eval()
    d = Path(tempfile.mkdtemp(prefix="leanbench-ort-graphs-"))
    names = ro.export_onnx(model, measure.latency_batch(tok, evals, 2, 128), d / "fp32.onnx")
    ro.quantize_int8(d / "fp32.onnx", d / "int8.onnx", per_channel=True)
    cfg = model.config
    fused = optimizer.optimize_model(
        str(d / "fp32.onnx"),
        model_type="bert",
        num_heads=cfg.num_attention_heads,
        hidden_size=cfg.hidden_size,
        opt_level=0,
    )
    fused.save_model_to_file(str(d / "fused.onnx"))
    for name, per_channel in (("fused-int8-all", True), ("fused-int8-all-pt", False)):
        quantize_dynamic(
            str(d / "fused.onnx"),
            str(d / f"{name}.onnx"),
            per_channel=per_channel,
            weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": 1},  # FLOAT: the fused ops have no inferred type
        )

    def session(file: str, spinning: bool = False):
        opts = ro.session_options(2, spinning=spinning)
        return ro._runner(
            ort.InferenceSession(str(d / file), opts, providers=["CPUExecutionProvider"]), names
        )

    predictors = {
        "torch eager fp32": lambda b: model(**b).logits,
        "ort fp32": session("fp32.onnx"),
        "ort fp32, spinning": session("fp32.onnx", True),
        "ort int8": session("int8.onnx"),
        "ort int8, spinning": session("int8.onnx", True),
        "fused, all ops int8": session("fused-int8-all.onnx"),
        "fused, all ops int8 per-tensor": session("fused-int8-all-pt.onnx"),
    }
    with torch.inference_mode():
        for key, p in predictors.items():
            preds = measure.predict(p, tok, evals.texts, 64, 128)
            print(f"{key:<32} accuracy {measure.accuracy(evals.labels, preds):.3f}")
        for b in (1, 32):
            batch = measure.latency_batch(tok, evals, b, 128)
            rounds = measure.interleaved_rounds(
                {k: (p, batch) for k, p in predictors.items()},
                rounds=ROUNDS,
                min_repeats=20 if b == 1 else 3,
                min_seconds=0.3,
                pause_s=0.1,
            )
            base_ms = statistics.median(rounds["torch eager fp32"])
            for key, samples in rounds.items():
                med = statistics.median(samples)
                print(f"b{b:<3} {key:<32} {med:8.1f} ms  {base_ms / med:5.2f}x")
    for f in sorted(d.glob("*.onnx")):
        print(f"{f.name:<24} {f.stat().st_size / 1e6:6.1f} MB")


if __name__ == "__main__":
    main()
