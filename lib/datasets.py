"""Labelled text for training and evaluation: built-ins and users' CSV/JSONL files.

Every loader returns a ``LabelledText``; ``split`` makes the deterministic, stratified
train/eval split. The eval set depends only on the data and the seed (not on the train limit),
so runs with different training budgets are compared on the same examples.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lib.errors import UserError
from lib.paths import asset_path
from lib.spec import BUILTIN_DATASETS, DatasetSpec

EVAL_SHARE = 0.2  # of each class, held out for evaluation


@dataclass
class LabelledText:
    texts: list[str]
    labels: np.ndarray  # int64 indices into label_names
    label_names: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, idx: np.ndarray) -> LabelledText:
        return LabelledText([self.texts[i] for i in idx], self.labels[idx], self.label_names)

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        h.update(json.dumps(self.label_names).encode())
        for t, y in zip(self.texts, self.labels.tolist(), strict=True):
            h.update(f"{y}\t{t}\n".encode())
        return h.hexdigest()[:16]


def load(spec: DatasetSpec) -> LabelledText:
    if spec.source in BUILTIN_DATASETS:
        frame, text_col, label_col = _BUILTIN_LOADERS[spec.source]()
    else:
        frame = read_table(spec.source)
        if not (spec.text_column and spec.label_column):  # DatasetSpec checks this already
            raise UserError(f"Dataset file '{spec.source}' needs a text column and a label column.")
        text_col, label_col = spec.text_column, spec.label_column
    return from_frame(frame, text_col, label_col, where=spec.source)


def read_table(path: str | Path) -> pd.DataFrame:
    """A user's CSV or JSONL file as a DataFrame, or a UserError that says what is wrong."""
    path = Path(path).expanduser()
    if not path.exists():
        raise UserError(f"Dataset file not found: {path}. Check the path.")
    if path.is_dir():
        raise UserError(f"{path} is a folder; give a .csv or .jsonl file.")
    if path.stat().st_size == 0:
        raise UserError(f"Dataset file {path.name} is empty.")
    raw = path.read_bytes()
    return parse_table(raw, path.name)


def parse_table(raw: bytes, name: str) -> pd.DataFrame:
    """Parse CSV or JSONL bytes (an upload or a file)."""
    if not raw.strip():
        raise UserError(f"Dataset file {name} is empty.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"Dataset file {name} is not UTF-8 (bad byte at position {exc.start}). "
            "Save it as UTF-8 and try again."
        ) from None
    import io

    is_jsonl = name.lower().endswith((".jsonl", ".ndjson", ".json"))
    try:
        if is_jsonl:
            frame = pd.read_json(io.StringIO(text), lines=True)
        else:
            frame = pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError) as exc:
        kind = "JSONL (one JSON object per line)" if is_jsonl else "CSV"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"Could not read {name} as {kind}: {first}") from None
    if frame.empty or len(frame.columns) == 0:
        raise UserError(f"Dataset file {name} has no rows.")
    return frame


def from_frame(frame: pd.DataFrame, text_col: str, label_col: str, where: str) -> LabelledText:
    missing = [c for c in (text_col, label_col) if c not in frame.columns]
    if missing:
        cols = ", ".join(map(str, frame.columns[:20]))
        raise UserError(
            f"{where} has no column {' or '.join(map(repr, missing))}; its columns are: {cols}."
        )
    frame = frame[[text_col, label_col]].dropna()
    frame = frame[frame[text_col].astype(str).str.strip() != ""]
    if frame.empty:
        raise UserError(f"{where} has no rows with both a text and a label.")
    labels_raw = frame[label_col].astype(str)
    names = sorted(labels_raw.unique())
    if len(names) < 2:
        raise UserError(
            f"The label column '{label_col}' of {where} has only one class ({names[0]!r}); "
            "a classifier needs at least two."
        )
    if len(names) > 200:
        raise UserError(
            f"The label column '{label_col}' of {where} has {len(names)} distinct values; "
            "is it really the label?"
        )
    index = {n: i for i, n in enumerate(names)}
    labels = labels_raw.map(index).to_numpy(dtype=np.int64)
    return LabelledText(frame[text_col].astype(str).tolist(), labels, names)


def split(
    data: LabelledText, train_limit: int, eval_limit: int, seed: int = 0
) -> tuple[LabelledText, LabelledText]:
    """Stratified, deterministic: EVAL_SHARE of each class is held out; limits take stratified
    subsets of each side."""
    rng = np.random.default_rng(seed)
    train_pool, eval_pool = [], []
    for cls in range(len(data.label_names)):
        idx = np.flatnonzero(data.labels == cls)
        idx = idx[rng.permutation(len(idx))]
        n_eval = max(1, int(round(len(idx) * EVAL_SHARE))) if len(idx) > 1 else 0
        eval_pool.append(idx[:n_eval])
        train_pool.append(idx[n_eval:])
    train_idx = _stratified_take(train_pool, train_limit)
    eval_idx = _stratified_take(eval_pool, eval_limit)
    if len(eval_idx) == 0 or len(train_idx) == 0:
        raise UserError("The dataset is too small to split into train and eval sets.")
    return data.subset(train_idx), data.subset(eval_idx)


def _stratified_take(pools: list[np.ndarray], limit: int) -> np.ndarray:
    total = sum(len(p) for p in pools)
    if limit >= total:
        chosen = np.concatenate(pools)
    else:
        # Largest-remainder allocation keeps class shares and the exact total.
        exact = np.array([len(p) * limit / total for p in pools])
        take = np.floor(exact).astype(int)
        for i in np.argsort(-(exact - take))[: limit - take.sum()]:
            take[i] += 1
        chosen = np.concatenate([p[:k] for p, k in zip(pools, take, strict=True)])
    return np.sort(chosen)


def _rotten_tomatoes() -> tuple[pd.DataFrame, str, str]:
    frame = pd.read_csv(asset_path("rotten-tomatoes"))
    frame = frame[frame["category"].isin(["fresh", "rotten"])]  # leave plot summaries out
    return frame, "text", "category"


def _tweets() -> tuple[pd.DataFrame, str, str]:
    frame = pd.read_csv(asset_path("tweets"), encoding="latin-1")
    return frame, "text", "sentiment"


def _bbc_news() -> tuple[pd.DataFrame, str, str]:
    rows = []
    for folder in sorted(p for p in asset_path("bbc-news").iterdir() if p.is_dir()):
        for f in sorted(folder.glob("*.txt")):
            rows.append((f.read_text(encoding="utf-8", errors="replace").strip(), folder.name))
    return pd.DataFrame(rows, columns=["text", "topic"]), "text", "topic"


_BUILTIN_LOADERS = {
    "rotten-tomatoes": _rotten_tomatoes,
    "bbc-news": _bbc_news,
    "tweets": _tweets,
}

DATASET_INFO = {
    "rotten-tomatoes": "Rotten Tomatoes review snippets, fresh or rotten (about 12.8k).",
    "bbc-news": "BBC News articles in 5 topics (2,225).",
    "tweets": "Tweets about self-driving cars: negative, neutral or positive (38k).",
}
