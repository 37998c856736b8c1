"""Labelled text for training and evaluation: built-ins and users' CSV/JSONL files.

Every loader returns a ``LabelledText``; ``split`` makes the deterministic, stratified
train/eval split. The eval set depends only on the data and the seed (not on the train limit),
so runs with different training budgets are compared on the same examples.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lib.errors import UserError
from lib.paths import asset_path
from lib.spec import BUILTIN_DATASETS, DatasetSpec

EVAL_SHARE = 0.2  # of each class, held out for evaluation

# The fewest evaluation examples a run may have. An accuracy measured on n examples is known to
# within a 95% interval whose half-width is largest at 50% accuracy: about ±13 points at 50
# examples (±7 at 200, ±3 at 1,000). Below 50 that interval covers more than a quarter of the
# scale, and the run cannot tell a variant that keeps the baseline's accuracy from one that
# loses ten points: a benchmark on so few examples means nothing, so it is refused. Above it,
# a run is allowed, with a warning while the interval is wider than ±WIDE_INTERVAL.
MIN_EVAL_EXAMPLES = 50
WIDE_INTERVAL = 0.05  # ±5 points: a typical technique's accuracy cost is 1-3 points
CONFIDENCE = 0.95

# Separators a CSV file may use, and their names for people.
SEPARATORS = {",": "commas (,)", ";": "semicolons (;)", "\t": "tabs", "|": "bars (|)"}


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
    sep = "," if is_jsonl else sniff_separator(text)
    try:
        if is_jsonl:
            frame = pd.read_json(io.StringIO(text), lines=True)
        else:
            frame = pd.read_csv(io.StringIO(text), sep=sep)
    except TypeError:  # pandas, on JSONL lines that are not all objects (a list, null, a number)
        if not is_jsonl:
            raise
        raise UserError(
            f"Could not read {name} as JSONL: every line must be one JSON object, like "
            '{"text": "...", "label": "..."}.'
        ) from None
    except (ValueError, pd.errors.ParserError) as exc:
        kind = "JSONL (one JSON object per line)" if is_jsonl else _csv_kind(sep)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"Could not read {name} as {kind}: {first}") from None
    if frame.empty or len(frame.columns) == 0:
        raise UserError(f"Dataset file {name} has no rows.")
    if len(frame.columns) < 2:
        only = str(frame.columns[0])
        how = (
            "each line needs a text key and a label key"
            if is_jsonl
            else "a CSV's header row names its columns, separated by commas, semicolons, tabs "
            "or bars"
        )
        raise UserError(
            f"{name} has only one column ({only!r}); Leanbench needs a text column and a label "
            f"column ({how}). Fix the file and try again."
        )
    if is_jsonl:
        _check_nesting(frame, name)
    frame.attrs["separator"] = None if is_jsonl else sep
    return frame


MAX_NESTING = 20  # levels of objects or lists inside one JSONL value


def _depth(value: object, limit: int) -> int:
    """How deeply ``value`` nests lists and objects, counted up to ``limit + 1`` (iteratively:
    a hostile value cannot exhaust the stack)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list | tuple):
            level += 1
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            stack.extend((v, level) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _check_nesting(frame: pd.DataFrame, name: str) -> None:
    """``UserError`` for a JSONL whose values nest deeper than ``MAX_NESTING`` (a text or a label
    is a string or a number; deep nesting is a broken or hostile file)."""
    for column in frame.columns:
        if frame[column].dtype != object:
            continue
        for row, value in enumerate(frame[column].tolist(), start=1):
            if isinstance(value, dict | list) and _depth(value, MAX_NESTING) > MAX_NESTING:
                raise UserError(
                    f"{name}, line {row}: the value of {str(column)!r} nests lists or objects "
                    f"more than {MAX_NESTING} levels deep; a text or a label is a string. Fix "
                    "the file and try again."
                )


def sniff_separator(text: str) -> str:
    """The separator of a CSV text: ``,``, ``;``, a tab or ``|``, read from its header row (the
    one that counts most of them outside quotes; ``csv.Sniffer`` breaks a tie), ``,`` when the
    header has none of them."""
    lines = text.splitlines()
    header = lines[0] if lines else ""
    counts = {sep: _count_outside_quotes(header, sep) for sep in (",", ";", "\t", "|")}
    most = max(counts.values())
    if most == 0:
        return ","
    tied = [sep for sep, n in counts.items() if n == most]
    if len(tied) == 1:
        return tied[0]
    try:
        found = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters="".join(tied)).delimiter
    except csv.Error:
        return tied[0]
    return found if found in tied else tied[0]


def separator_name(sep: str | None) -> str:
    """ "semicolons (;)" for ";": how a separator is named to people."""
    return SEPARATORS.get(sep or ",", repr(sep))


def _csv_kind(sep: str) -> str:
    return "CSV" if sep == "," else f"CSV separated by {separator_name(sep)}"


def _count_outside_quotes(line: str, char: str) -> int:
    n, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            n += 1
    return n


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


def _held_out(count: int) -> int:
    """How many of a class's ``count`` examples ``split`` holds out for evaluation."""
    return max(1, int(round(count * EVAL_SHARE))) if count > 1 else 0


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
        n_eval = _held_out(len(idx))
        eval_pool.append(idx[:n_eval])
        train_pool.append(idx[n_eval:])
    train_idx = _stratified_take(train_pool, train_limit)
    eval_idx = _stratified_take(eval_pool, eval_limit)
    if len(eval_idx) == 0 or len(train_idx) == 0:
        raise UserError("The dataset is too small to split into train and eval sets.")
    return data.subset(train_idx), data.subset(eval_idx)


# ------------------------------------------------------------------ is there enough to evaluate?
def accuracy_half_width(n: int, accuracy: float = 0.5, confidence: float = CONFIDENCE) -> float:
    """Half the width of the Wilson score interval of an accuracy measured on ``n`` examples, as
    a fraction (0.134: ±13.4 points). At the default 50% accuracy it is the widest the interval
    can be for ``n``: what a run on ``n`` examples can promise before anything is measured."""
    if n <= 0:
        return 0.5
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2))
    p = min(max(accuracy, 0.0), 1.0)
    return z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)


@dataclass(frozen=True)
class EvalSize:
    """How many examples a run trains and evaluates on, and what that means for its accuracy."""

    n_train: int
    n_eval: int
    eval_limit: int
    held_out: int | None = None  # what split holds out before the eval limit; None: not counted

    @property
    def half_width(self) -> float:
        """The widest 95% interval of the accuracy, ± as a fraction (at 50% accuracy)."""
        return accuracy_half_width(self.n_eval)

    @property
    def too_small(self) -> bool:
        """Refused: fewer than MIN_EVAL_EXAMPLES to evaluate on, or nothing to train on."""
        return self.problem() is not None

    @property
    def wide(self) -> bool:
        """Allowed, but the interval is wider than ±WIDE_INTERVAL."""
        return not self.too_small and self.half_width > WIDE_INTERVAL

    def sentence(self) -> str:
        """ "Accuracy will be measured on 200 held-out examples: known to within ±6.9 points at
        worst (95% interval). A new head would train on up to 800." """
        return (
            f"Accuracy will be measured on {self.n_eval:,} held-out examples: known to within "
            f"±{100 * self.half_width:.1f} points at worst (95% interval). A new head would "
            f"train on up to {self.n_train:,}."
        )

    def problem(self) -> str | None:
        """Why a run on this data is refused, and what to do; None when it is not."""
        if self.n_train == 0:
            return (
                "The dataset is too small to split into train and eval sets: every class needs "
                "at least two examples. Use a file with more rows."
            )
        if self.n_eval >= MIN_EVAL_EXAMPLES:
            return None
        floor = accuracy_half_width(MIN_EVAL_EXAMPLES)
        if self.held_out is None or self.eval_limit < self.held_out:
            holds = f" (this data holds out {self.held_out:,})" if self.held_out else ""
            fix = f"Raise the evaluation examples to at least {MIN_EVAL_EXAMPLES}{holds}."
        else:
            rows = math.ceil(MIN_EVAL_EXAMPLES / EVAL_SHARE)
            fix = (
                f"Use a file with at least {rows:,} labelled rows: a fifth of each class is "
                "held out for evaluation."
            )
        if self.n_eval == 0:
            head = (
                "No example would be left to measure accuracy on (a class needs at least two "
                "rows for one to be held out)"
            )
        else:
            head = (
                f"Only {self.n_eval:,} example{'s' if self.n_eval != 1 else ''} would be used "
                "to measure accuracy: an accuracy measured on so few is only known to within "
                f"±{100 * self.half_width:.0f} points (95% interval), too wide to tell the "
                "variants apart"
            )
        return (
            f"{head}. Leanbench needs at least {MIN_EVAL_EXAMPLES} evaluation examples "
            f"(±{100 * floor:.0f} points). {fix}"
        )


def eval_size(data: LabelledText, train_limit: int, eval_limit: int) -> EvalSize:
    """How many examples ``split`` gives with these limits (the counts only: no shuffling)."""
    counts = np.bincount(data.labels, minlength=len(data.label_names))
    return eval_size_from_counts([int(c) for c in counts], train_limit, eval_limit)


def eval_size_from_counts(counts: list[int], train_limit: int, eval_limit: int) -> EvalSize:
    """``eval_size`` from the examples per class."""
    held = sum(_held_out(int(c)) for c in counts)
    rest = sum(int(c) for c in counts) - held
    return EvalSize(min(train_limit, rest), min(eval_limit, held), eval_limit, held)


def check_eval_size(data: LabelledText, spec: DatasetSpec) -> EvalSize:
    """The run's example counts; a UserError when there are too few to evaluate on."""
    size = eval_size(data, spec.train_limit, spec.eval_limit)
    problem = size.problem()
    if problem:
        raise UserError(problem)
    return size


def check_spec_size(spec: DatasetSpec) -> EvalSize | None:
    """``check_eval_size`` for a spec whose data is not at hand (the Run page). A file is read
    once per version of it; a built-in dataset is not read at all: each holds out hundreds of
    examples per class, so only its eval limit can be too low. None for a built-in."""
    if spec.source in BUILTIN_DATASETS:
        problem = EvalSize(spec.train_limit, spec.eval_limit, spec.eval_limit).problem()
        if problem:
            raise UserError(problem)
        return None
    path = Path(spec.source).expanduser()
    try:
        stat = path.stat()
    except OSError:
        raise UserError(f"Dataset file not found: {spec.source}. Check the path.") from None
    return _file_size(
        str(path.resolve()),
        stat.st_mtime_ns,
        stat.st_size,
        str(spec.text_column),
        str(spec.label_column),
        spec.train_limit,
        spec.eval_limit,
    )


@functools.lru_cache(maxsize=16)
def _file_size(
    path: str, mtime_ns: int, size: int, text: str, label: str, train: int, evals: int
) -> EvalSize:
    del mtime_ns, size  # in the cache key only: a changed file is read again
    data = from_frame(read_table(path), text, label, where=Path(path).name)
    return check_eval_size(data, DatasetSpec(path, text, label, train, evals))


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
