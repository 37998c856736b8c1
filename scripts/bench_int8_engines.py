"""Time torch's dynamic int8 against fp32 on the built-in model, in interleaved rounds.

    .venv/bin/python -m scripts.bench_int8_engines      (from the repository root)

Interleaving (fp32, then each quantized engine, round after round) keeps a drifting machine
from favouring whichever variant ran last. Prints the median ms per batch and the speed-up.
"""

import statistics
import time
import warnings

import torch

from lib.models import load as models  # noqa: E402
from lib.paths import asset_path  # noqa: E402

BATCH, SEQ, ROUNDS = 32, 128, 5


def main() -> None:
    warnings.filterwarnings("ignore")
    torch.set_num_threads(2)
    model = models.load_classifier(str(asset_path("minilm-l6")), num_labels=2)
    x = {
        "input_ids": torch.randint(1000, 5000, (BATCH, SEQ)),
        "attention_mask": torch.ones(BATCH, SEQ, dtype=torch.long),
    }
    variants = {"fp32": (None, model)}
    for engine in ("x86", "fbgemm", "onednn"):
        torch.backends.quantized.engine = engine
        for name, qconfig in (
            ("per-tensor", torch.ao.quantization.default_dynamic_qconfig),
            ("per-channel", torch.ao.quantization.per_channel_dynamic_qconfig),
        ):
            q = torch.ao.quantization.quantize_dynamic(
                model, {torch.nn.Linear: qconfig}, dtype=torch.qint8
            )
            variants[f"int8 {engine} {name}"] = (engine, q)
    times = {k: [] for k in variants}
    with torch.inference_mode():
        for _ in range(ROUNDS + 1):  # the first round warms up and is dropped
            for key, (engine, m) in variants.items():
                if engine:
                    torch.backends.quantized.engine = engine
                t0 = time.perf_counter()
                m(**x)
                times[key].append(time.perf_counter() - t0)
    base = statistics.median(times["fp32"][1:])
    for key, samples in times.items():
        med = statistics.median(samples[1:])
        print(f"{key:<26} {med * 1000:8.0f} ms  {base / med:5.2f}x")


if __name__ == "__main__":
    main()
