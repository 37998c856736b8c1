"""Long documents: what to do with inputs longer than the model reads at once, as a measured choice.

A strategy turns one document's tokens into the windows the model sees, and the windows' logits
into one prediction:

- ``truncate[:L]``: the first ``L`` tokens (the head), what every run does by default;
- ``head-tail[:L[:H]]``: the first ``H`` tokens and the last ``L - H`` (default ``H = L / 4``:
  Sun et al. 2019, "How to fine-tune BERT for text classification", kept 128 of 512 from the
  head and found head+tail best on long IMDb and Sogou reviews);
- ``chunk[:L[:O[:POOL]]]``: a sliding window of ``L`` tokens moving ``L - O`` tokens at a time
  (``O`` tokens of overlap, default ``L / 4``), every window through the model in one batch and
  their logits pooled by ``mean`` (default) or ``max`` per class.

``L`` counts the model's whole input, special tokens included (``[CLS]`` and ``[SEP]`` for BERT:
``L - 2`` text tokens per window); its default and ceiling is the model's maximum length. The
pure functions (``chunk_spans``, ``windows``, ``pool_logits``) hold the whole of each strategy;
``evaluate`` measures each on labelled documents: accuracy (95% Wilson interval), the model's
time per document (p50, p90, mean, one document per call, its windows as one batch, every
strategy in turn on each block of 25 documents so that a machine that slows down slows them
alike),
documents per second, windows per document, and the same by document length. Tokenizing the whole text
comes first for every strategy and is timed once, apart (``tokenize_ms_per_doc``).

On a dataset whose texts all fit in a window, every strategy sees the whole of every text and
gives the same predictions: the evaluation says so (``changes_nothing``) instead of pretending
to a choice. ``measure_long_docs`` adapts the baseline as a run does (cached) and evaluates it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lib.datasets import LabelledText
from lib.errors import UserError

KINDS = ("truncate", "head-tail", "chunk")
POOLS = ("mean", "max")
# Document-length bins (tokens, special tokens included) for documents/s against length.
LENGTH_EDGES = (0, 128, 256, 384, 512, 768, 1024, 2048)
DEFAULT_STRATEGIES = ("truncate", "head-tail", "chunk")
BLOCK = 25  # documents timed per strategy before the next strategy's turn

Progress = Callable[[float, str], None]


# ------------------------------------------------------------------ strategies
@dataclass(frozen=True)
class Strategy:
    """One way to read a long document; ``max_tokens`` counts special tokens too."""

    kind: str
    max_tokens: int
    head: int = 0  # head-tail: text tokens from the head
    overlap: int = 0  # chunk: text tokens shared by consecutive windows
    pool: str = "mean"  # chunk: how the windows' logits become one

    @property
    def name(self) -> str:
        if self.kind == "truncate":
            return f"truncate:{self.max_tokens}"
        if self.kind == "head-tail":
            return f"head-tail:{self.max_tokens}:{self.head}"
        return f"chunk:{self.max_tokens}:{self.overlap}:{self.pool}"


def parse_strategy(text: str, model_max: int, n_special: int = 2) -> Strategy:
    """``"chunk:128:32:mean"`` -> Strategy; a UserError that says what is wrong."""
    parts = [p.strip() for p in str(text).strip().lower().split(":")]
    kind = parts[0]
    if kind not in KINDS:
        raise UserError(
            f"Unknown long-document strategy '{text}': use truncate[:L], head-tail[:L[:H]] or "
            "chunk[:L[:OVERLAP[:mean|max]]]."
        )
    limits = {"truncate": 2, "head-tail": 3, "chunk": 4}[kind]
    if len(parts) > limits:
        raise UserError(f"'{text}': too many parts for {kind}.")

    def whole(i: int, what: str) -> int | None:
        if len(parts) <= i or parts[i] == "":
            return None
        try:
            return int(parts[i])
        except ValueError:
            if kind == "chunk" and i == 3:
                return None
            raise UserError(
                f"'{text}': the {what} must be a whole number (got '{parts[i]}')."
            ) from None

    length = whole(1, "length") or model_max
    if length > model_max:
        raise UserError(
            f"'{text}': {length} tokens is more than this model reads at once ({model_max})."
        )
    room = length - n_special
    if room < 2:
        raise UserError(f"'{text}': {length} tokens leave no room for text after special tokens.")
    if kind == "truncate":
        return Strategy(kind, length)
    if kind == "head-tail":
        head = whole(2, "head")
        head = room // 4 if head is None else head
        if not 0 <= head <= room:
            raise UserError(f"'{text}': the head takes 0 to {room} of the {room} text tokens.")
        return Strategy(kind, length, head=head)
    overlap = whole(2, "overlap")
    overlap = room // 4 if overlap is None else overlap
    if not 0 <= overlap < room:
        raise UserError(
            f"'{text}': the overlap must be from 0 to {room - 1} tokens (a window holds {room})."
        )
    pool = parts[3] if len(parts) > 3 and parts[3] else "mean"
    if pool not in POOLS:
        raise UserError(f"'{text}': pool the windows by mean or max, not '{pool}'.")
    return Strategy(kind, length, overlap=overlap, pool=pool)


def chunk_spans(length: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """``[start, end)`` windows of at most ``size`` tokens over ``length`` tokens, each starting
    ``size - overlap`` after the previous, the last one ending at ``length``: every token is in
    at least one window, consecutive windows share exactly ``overlap`` tokens (the last may share
    more: it is shorter, never shifted). One empty window for an empty text."""
    if size < 1 or not 0 <= overlap < size:
        raise ValueError(f"need size >= 1 and 0 <= overlap < size (got {size}, {overlap})")
    if length <= size:
        return [(0, length)]
    stride = size - overlap
    spans = []
    start = 0
    while True:
        end = min(start + size, length)
        spans.append((start, end))
        if end == length:
            return spans
        start += stride


def windows(ids: Sequence[int], strategy: Strategy, n_special: int = 2) -> list[list[int]]:
    """The text-token windows (no special tokens) the model sees for one document."""
    room = strategy.max_tokens - n_special
    ids = list(ids)
    if strategy.kind == "truncate":
        return [ids[:room]]
    if strategy.kind == "head-tail":
        if len(ids) <= room:
            return [ids]
        tail = room - strategy.head
        return [ids[: strategy.head] + (ids[len(ids) - tail :] if tail else [])]
    return [ids[a:b] for a, b in chunk_spans(len(ids), room, strategy.overlap)]


def pool_logits(logits: np.ndarray, how: str = "mean") -> np.ndarray:
    """One row of logits from one row per window: their mean, or each class's max."""
    x = np.asarray(logits, dtype=float)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"need logits of shape (windows, classes), got {x.shape}")
    if how == "mean":
        return x.mean(axis=0)
    if how == "max":
        return x.max(axis=0)
    raise ValueError(f"pool by mean or max, not {how!r}")


# ------------------------------------------------------------------ the model
def model_max_length(tokenizer, config) -> int:
    """What the model reads at once: its position embeddings, the tokenizer's limit if lower."""
    limits = [
        int(v)
        for v in (
            getattr(config, "max_position_embeddings", None),
            getattr(tokenizer, "model_max_length", None),
        )
        if isinstance(v, int) and 0 < v < 1_000_000
    ]
    if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert") and limits:
        limits[0] -= 2  # RoBERTa's positions start after the padding index
    return min(limits) if limits else 512


def special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """The ids the tokenizer puts before and after one text (``[CLS]`` and ``[SEP]`` for BERT),
    found by tokenizing a probe with and without them."""
    probe = "hello"
    bare = tokenizer(probe, add_special_tokens=False)["input_ids"]
    full = tokenizer(probe, add_special_tokens=True)["input_ids"]
    for i in range(len(full) - len(bare) + 1):
        if full[i : i + len(bare)] == bare:
            return list(full[:i]), list(full[i + len(bare) :])
    return [], []


def _special_count(tokenizer) -> int:
    before, after = special_tokens(tokenizer)
    return len(before) + len(after)


def _batch(tokenizer, parts: list[list[int]], device: Any = "cpu", specials=None):
    """The windows as one padded batch, special tokens around each (``specials``: the
    ``special_tokens`` of the tokenizer, found once by the caller)."""
    import torch

    before, after = specials or special_tokens(tokenizer)
    rows = [before + list(p) + after for p in parts]
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device)}


def length_stats(lengths: Sequence[int], limits: Sequence[int]) -> dict[str, Any]:
    """The token-length distribution: mean, percentiles, max, the share over each limit, and
    counts per ``LENGTH_EDGES`` bin."""
    x = np.asarray(lengths, dtype=float)
    if x.size == 0:
        return {"n": 0}
    edges = [*LENGTH_EDGES, math.inf]
    bins = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        n = int(np.sum((x > lo) & (x <= hi)))
        if n:
            bins.append({"from": lo + 1, "to": None if math.isinf(hi) else hi, "documents": n})
    return {
        "n": int(x.size),
        "mean": float(x.mean()),
        "p10": float(np.percentile(x, 10)),
        "p50": float(np.percentile(x, 50)),
        "p90": float(np.percentile(x, 90)),
        "p99": float(np.percentile(x, 99)),
        "max": int(x.max()),
        "share_longer_than": {str(L): float(np.mean(x > L)) for L in sorted(set(limits))},
        "histogram": bins,
    }


def _bin_of(n: int) -> tuple[int, int | None]:
    edges = [*LENGTH_EDGES, math.inf]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if lo < n <= hi:
            return int(lo) + 1, None if math.isinf(hi) else int(hi)
    return 1, LENGTH_EDGES[1]


def evaluate(
    model,
    tokenizer,
    data: LabelledText,
    strategies: Sequence[Strategy],
    *,
    model_max: int,
    warmup: int = 3,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Each strategy's accuracy, time per document and documents/s on ``data`` (see the module
    docstring); returns the ``long_documents`` part of the document."""
    import torch

    from lib.measure.stats import accuracy_ci

    if not strategies:
        raise UserError("Give at least one long-document strategy.")
    specials = special_tokens(tokenizer)
    n_special = len(specials[0]) + len(specials[1])
    t0 = time.perf_counter()
    ids = tokenizer(list(data.texts), add_special_tokens=False, truncation=False, verbose=False)[
        "input_ids"
    ]
    tokenize_ms = (time.perf_counter() - t0) * 1000 / max(1, len(ids))
    lengths = [len(x) + n_special for x in ids]
    stats = length_stats(lengths, [s.max_tokens for s in strategies] + [model_max])
    labels = np.asarray(data.labels)
    device = next(model.parameters()).device
    model.eval()
    out = []
    k = len(strategies)
    preds = np.empty((k, len(ids)), dtype=np.int64)
    ms = np.empty((k, len(ids)))
    n_windows = np.empty((k, len(ids)), dtype=np.int64)
    tokens = np.empty((k, len(ids)), dtype=np.int64)
    with torch.inference_mode():
        for doc in ids[: max(0, warmup)]:  # warm the kernels up; not timed
            for s in strategies:
                model(**_batch(tokenizer, windows(doc, s, n_special), device, specials))
        # In blocks of documents, every strategy in turn on each block (the order rotating): a
        # machine that slows down mid-measurement slows every strategy alike instead of the
        # last one; an untimed call first, so that no strategy pays for the one before it (a
        # single window timed right after a batch of windows ran over 20x slower at p90 here).
        for b, first in enumerate(range(0, len(ids), BLOCK)):
            block = range(first, min(first + BLOCK, len(ids)))
            if progress:
                progress(first / len(ids), f"documents {first + 1:,}-{block[-1] + 1:,}")
            for j in [(b + r) % k for r in range(k)]:
                s = strategies[j]
                model(**_batch(tokenizer, windows(ids[first], s, n_special), device, specials))
                for i in block:
                    start = time.perf_counter()
                    parts = windows(ids[i], s, n_special)
                    batch = _batch(tokenizer, parts, device, specials)
                    logits = model(**batch).logits.float().cpu().numpy()
                    preds[j, i] = int(np.argmax(pool_logits(logits, s.pool)))
                    ms[j, i] = (time.perf_counter() - start) * 1000
                    n_windows[j, i] = len(parts)
                    tokens[j, i] = sum(len(p) + n_special for p in parts)
    for j, s in enumerate(strategies):
        correct = preds[j] == labels
        t, w, tok = ms[j], n_windows[j], tokens[j]
        low, high = accuracy_ci(int(correct.sum()), len(correct))
        long_mask = np.asarray(lengths) > s.max_tokens
        by_length = []
        for lo, hi in sorted({_bin_of(n) for n in lengths}):
            sel = np.array([lo <= n <= (hi if hi is not None else math.inf) for n in lengths])
            by_length.append(
                {
                    "from": lo,
                    "to": hi,
                    "documents": int(sel.sum()),
                    "median_tokens": float(np.median(np.asarray(lengths)[sel])),
                    "accuracy": float(correct[sel].mean()),
                    "latency_ms_mean": float(t[sel].mean()),
                    "docs_per_s": float(1000 * sel.sum() / t[sel].sum()),
                }
            )
        out.append(
            {
                "strategy": s.name,
                "kind": s.kind,
                "max_tokens": s.max_tokens,
                "head": s.head if s.kind == "head-tail" else None,
                "overlap": s.overlap if s.kind == "chunk" else None,
                "pool": s.pool if s.kind == "chunk" else None,
                "accuracy": float(correct.mean()),
                "accuracy_ci": [low, high],
                "n_eval": int(len(correct)),
                "latency_ms_p50": float(np.percentile(t, 50)),
                "latency_ms_p90": float(np.percentile(t, 90)),
                "latency_ms_mean": float(t.mean()),
                "docs_per_s": float(1000 * len(t) / t.sum()),
                "windows_per_doc": float(w.mean()),
                "tokens_per_doc": float(tok.mean()),
                "share_longer": float(long_mask.mean()),
                "changes_nothing": not bool(long_mask.any()),
                "predictions": preds[j].tolist(),
                "by_length": by_length,
            }
        )
    first = out[0]["predictions"]
    for r in out:
        r["agreement_with_first"] = float(np.mean(np.asarray(r["predictions"]) == first))
    return {
        "model_max_length": model_max,
        "special_tokens": n_special,
        "tokenize_ms_per_doc": tokenize_ms,
        "token_lengths": stats,
        "strategies": out,
        "changes_nothing": all(r["changes_nothing"] for r in out),
        "measured_as": "one document per call (its windows as one batch), the strategies in "
        f"turn on each block of {BLOCK} documents; model time only, "
        "the whole text tokenized beforehand (tokenize_ms_per_doc)",
    }


def short_text_note(result: dict[str, Any]) -> str | None:
    """Why the strategies cannot differ on this data, when none of its texts is too long."""
    stats = result.get("token_lengths") or {}
    if not result.get("changes_nothing"):
        return None
    shortest = min(r["max_tokens"] for r in result.get("strategies") or [{"max_tokens": 0}])
    return (
        f"None of the {stats.get('n', 0):,} texts is longer than {shortest} tokens (the longest "
        f"has {stats.get('max', 0)}, the median {stats.get('p50', 0):.0f}): every strategy reads "
        "the whole of every text in one window, so they give the same predictions and this "
        "choice changes nothing here; it only matters for texts longer than the window."
    )


def measure_long_docs(
    model_spec,
    dataset_spec,
    strategies: Sequence[str] = DEFAULT_STRATEGIES,
    adapt_spec=None,
    *,
    device: str = "cpu",
    threads: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Adapt the baseline on the dataset's train split as a run does (cached under the data
    folder), then ``evaluate`` every strategy on its eval split."""
    import torch

    from lib import datasets
    from lib.measure import environment
    from lib.models import load as models
    from lib.spec import AdaptSpec
    from lib.training import adapt

    if threads:
        torch.set_num_threads(threads)
    data = datasets.load(dataset_spec)
    datasets.check_eval_size(data, dataset_spec)
    train, evals = datasets.split(
        data, dataset_spec.train_limit, dataset_spec.eval_limit, dataset_spec.seed
    )
    adapt_spec = adapt_spec or AdaptSpec()

    def adapting(f: float, m: str) -> None:
        if progress:
            progress(0.4 * f, f"adapting the baseline: {m}")

    baseline = adapt.prepare_baseline(
        model_spec, dataset_spec, train, adapt_spec, progress=adapting, device=device
    )
    tokenizer = models.load_tokenizer(baseline.path)
    model = models.load_classifier(baseline.path).to(device)
    limit = model_max_length(tokenizer, model.config)
    n_special = _special_count(tokenizer)
    parsed = [parse_strategy(s, limit, n_special) for s in strategies]
    if len({s.name for s in parsed}) < len(parsed):
        raise UserError("The same strategy is given twice.")

    def measuring(f: float, m: str) -> None:
        if progress:
            progress(0.4 + 0.6 * f, m)

    result = evaluate(model, tokenizer, evals, parsed, model_max=limit, progress=measuring)
    env = environment.capture(device, torch.get_num_threads())
    result.update(
        model=model_spec.source,
        dataset=dataset_spec.source,
        n_eval=len(evals),
        labels=data.label_names,
        baseline={
            "path": baseline.path,
            "adapted": baseline.adapted,
            "cached": baseline.cached,
            "adapt_seconds": baseline.train_seconds,
            "adapt": adapt_spec.__dict__,
        },
        environment=env,
    )
    return result
