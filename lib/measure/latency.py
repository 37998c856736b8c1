"""Measuring one variant: accuracy, latency, throughput, size, parameters, peak memory."""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass

import numpy as np
import psutil
import torch

from lib.datasets import LabelledText
from lib.runtimes.registry import Predictor


# ---------------------------------------------------------------- accuracy
def predict(
    predictor: Predictor, tokenizer, texts: list[str], batch_size: int, max_length: int
) -> np.ndarray:
    """Predicted class per text. Texts are batched by length so padding stays small."""
    order = np.argsort([len(t) for t in texts], kind="stable")
    preds = np.empty(len(texts), dtype=np.int64)
    for start in range(0, len(texts), batch_size):
        idx = order[start : start + batch_size]
        batch = tokenizer(
            [texts[i] for i in idx],
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        )
        logits = predictor(dict(batch))
        preds[idx] = logits.argmax(-1).cpu().numpy()
    return preds


def accuracy(labels: np.ndarray, preds: np.ndarray) -> float:
    return float(np.mean(labels == preds))


def macro_f1(labels: np.ndarray, preds: np.ndarray, n_classes: int) -> float:
    scores = []
    for c in range(n_classes):
        tp = np.sum((preds == c) & (labels == c))
        fp = np.sum((preds == c) & (labels != c))
        fn = np.sum((preds != c) & (labels == c))
        denom = 2 * tp + fp + fn
        scores.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(scores))


# ---------------------------------------------------------------- latency
@dataclass
class Timing:
    samples_ms: list[float]

    def summary(self) -> dict[str, float]:
        s = np.asarray(self.samples_ms)
        mean = float(s.mean())
        std = float(s.std(ddof=1)) if len(s) > 1 else 0.0
        return {
            "p50": float(np.percentile(s, 50)),
            "p90": float(np.percentile(s, 90)),
            "p99": float(np.percentile(s, 99)),
            "mean": mean,
            "std": std,
            "cv": std / mean if mean else 0.0,
            "n": len(s),
        }


def latency_batch(tokenizer, data: LabelledText, batch_size: int, seq_len: int) -> dict:
    """A fixed-shape batch of real eval texts, padded or truncated to exactly ``seq_len``."""
    texts = [data.texts[i % len(data)] for i in range(batch_size)]
    return dict(
        tokenizer(
            texts,
            padding="max_length",
            truncation=True,
            max_length=seq_len,
            return_tensors="pt",
        )
    )


def time_predictor(
    predictor: Predictor,
    batch: dict,
    *,
    warmup: int,
    min_repeats: int,
    min_seconds: float,
    device: str = "cpu",
    max_repeats: int = 10_000,
) -> Timing:
    """Warm up, then repeat until both ``min_repeats`` and ``min_seconds`` are reached.

    On CUDA each call is timed with CUDA events recorded on the current stream around it and
    read after the end event has completed: the GPU's own clock, with no host timer skew, and
    every launched kernel inside the interval. Elsewhere ``perf_counter`` around the call plus
    a device synchronise.
    """
    if device == "cuda":
        return _time_cuda(predictor, batch, warmup, min_repeats, min_seconds, max_repeats)
    sync = _synchronizer(device)
    for _ in range(warmup):
        predictor(batch)
    sync()
    samples: list[float] = []
    start = time.perf_counter()
    while len(samples) < max_repeats:
        t0 = time.perf_counter()
        predictor(batch)
        sync()
        samples.append((time.perf_counter() - t0) * 1000)
        if len(samples) >= min_repeats and time.perf_counter() - start >= min_seconds:
            break
    return Timing(samples)


# Between the segments of interleaved rounds: long enough for the OpenMP workers of the half that
# just ran to stop spinning (GNU OpenMP spins ~300k iterations, well under a millisecond), so they
# cannot steal the cores from the other half. ORT sessions here never spin.
PAIRED_PAUSE_S = 0.05


def interleaved_rounds(
    predictors: dict[str, tuple[Predictor, dict]],
    *,
    rounds: int,
    min_repeats: int,
    min_seconds: float,
    device: str = "cpu",
    pause_s: float = PAIRED_PAUSE_S,
) -> dict[str, list[float]]:
    """The p50 of each predictor in each of ``rounds`` rounds, taking turns.

    ``predictors`` maps a name to (predictor, batch); each is warmed up first. Every round times
    each predictor in a segment of at least ``min_repeats`` calls and ``min_seconds``; the order
    flips every round (A B, B A, ...) so a machine that speeds up or slows down steadily favours
    neither. Returns name -> one p50 per round.
    """
    names = list(predictors)
    for predictor, batch in predictors.values():
        time_predictor(predictor, batch, warmup=1, min_repeats=1, min_seconds=0.0, device=device)
    out: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            time.sleep(pause_s)
            predictor, batch = predictors[name]
            timing = time_predictor(
                predictor,
                batch,
                warmup=0,
                min_repeats=min_repeats,
                min_seconds=min_seconds,
                device=device,
            )
            out[name].append(timing.summary()["p50"])
    return out


def _time_cuda(predictor, batch, warmup, min_repeats, min_seconds, max_repeats) -> Timing:
    for _ in range(warmup):
        predictor(batch)
    torch.cuda.synchronize()
    start_ev = torch.cuda.Event(enable_timing=True)
    end_ev = torch.cuda.Event(enable_timing=True)
    samples: list[float] = []
    start = time.perf_counter()
    while len(samples) < max_repeats:
        start_ev.record()
        predictor(batch)
        end_ev.record()
        end_ev.synchronize()
        samples.append(start_ev.elapsed_time(end_ev))  # milliseconds
        if len(samples) >= min_repeats and time.perf_counter() - start >= min_seconds:
            break
    return Timing(samples)


def _synchronizer(device: str):
    if device == "cuda":
        return torch.cuda.synchronize
    if device == "mps":
        return torch.mps.synchronize
    return lambda: None


# ---------------------------------------------------------------- size
def serialized_size_mb(model: torch.nn.Module) -> float:
    """Size of the saved state dict: what you would ship."""
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.tell() / 1e6


def count_params(model: torch.nn.Module) -> int:
    """Parameters, counting the packed weights of quantized layers, which ``parameters()`` hides."""
    total = sum(p.numel() for p in model.parameters())
    for m in model.modules():
        # Quantized layers expose weight() and bias() as methods, not as parameters.
        weight = getattr(m, "weight", None)
        if callable(weight) and not isinstance(weight, torch.Tensor):
            total += weight().numel()
            bias_of = getattr(m, "bias", None)
            bias = bias_of() if callable(bias_of) else None
            if isinstance(bias, torch.Tensor):
                total += bias.numel()
    return int(total)


# ---------------------------------------------------------------- memory
class PeakRSS:
    """Samples this process's resident memory in a thread; ``peak_mb`` after ``stop``."""

    def __init__(self, interval_s: float = 0.02):
        self.interval_s = interval_s
        self.peak = 0
        self._stop = threading.Event()
        self._proc = psutil.Process()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            self._stop.wait(self.interval_s)

    def __enter__(self) -> PeakRSS:
        self.peak = self._proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    @property
    def peak_mb(self) -> float:
        return self.peak / 1e6
