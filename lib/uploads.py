"""A labelled-text file uploaded from the browser: kept where the worker process can read it,
its likely text and label columns guessed, its columns checked, and a preview of it (or of a
built-in dataset): a few rows and the examples per class. Plain Python (the Model & data page
calls it)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from lib.access.limits import check_upload_size
from lib.errors import UserError
from lib.paths import user_dir

UPLOAD_TYPES = ["csv", "tsv", "jsonl", "json", "ndjson"]

_TEXT_NAMES = ("text", "sentence", "review", "content", "body", "message", "tweet", "document")
_LABEL_NAMES = ("label", "labels", "category", "class", "sentiment", "target", "topic", "y")


def check_upload(raw: bytes, name: str) -> str:
    """The upload's extension, once its size (``LEANBENCH_MAX_UPLOAD_MB``, beside Streamlit's own
    ``server.maxUploadSize``) and its type are checked; ``UserError`` says what is wrong. Called
    before the file is parsed."""
    check_upload_size(len(raw), name)
    ext = Path(name).suffix.lower().lstrip(".") or "csv"
    if ext not in UPLOAD_TYPES:
        raise UserError(f"{name}: upload a .csv or .jsonl file (got .{ext}).")
    return ext


def save_upload(raw: bytes, name: str, folder: Path | None = None) -> Path:
    """Keep an uploaded file where the worker process can read it: uploads/<sha>.<ext>, a name
    made from its content (the name the browser sent gives only the extension, never a path)."""
    ext = check_upload(raw, name)
    folder = folder or user_dir() / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(raw).hexdigest()[:16]}.{ext}"
    if not path.exists():
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(raw)
        tmp.replace(path)
    return path


def guess_columns(frame: pd.DataFrame) -> tuple[str, str]:
    """Likely (text column, label column) of a table: by name, else by shape."""
    cols = [str(c) for c in frame.columns]
    lower = {c.lower(): c for c in cols}
    text = next((lower[n] for n in _TEXT_NAMES if n in lower), None)
    if text is None:
        lengths = {
            c: frame[c].astype(str).str.len().mean()
            for c in frame.columns
            if frame[c].dtype == object
        }
        text = str(max(lengths, key=lengths.__getitem__)) if lengths else cols[0]
    label = next((lower[n] for n in _LABEL_NAMES if n in lower and lower[n] != text), None)
    if label is None:
        rest = [c for c in frame.columns if str(c) != text]
        # as text: a JSONL cell may hold a list or an object, which pandas cannot count
        label = str(min(rest, key=lambda c: frame[c].astype(str).nunique())) if rest else text
    return text, label


def pick_columns(frame: pd.DataFrame, text: str | None, label: str | None) -> tuple[str, str]:
    """The (text, label) columns to preselect: the ones given when the table has them, else
    guessed (``guess_columns``)."""
    columns = [str(c) for c in frame.columns]
    guess_text, guess_label = guess_columns(frame)
    return (
        text if text in columns else guess_text,
        label if label in columns else guess_label,
    )


def class_counts(labels: list[str] | pd.Series) -> pd.DataFrame:
    """Examples per class, most common first."""
    counts = pd.Series(labels).astype(str).value_counts()
    return pd.DataFrame({"label": counts.index, "examples": counts.to_numpy()})


def preview(
    texts: list[str], labels: list[str], rows: int = 6, shuffle: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A few rows (text, label), the first ones or ``shuffle``d ones (the same each time), and
    the examples per class."""
    if shuffle:
        sample = pd.DataFrame({"text": texts, "label": labels}).sample(rows, random_state=0)
        sample = sample.reset_index(drop=True)
    else:
        sample = pd.DataFrame({"text": texts[:rows], "label": labels[:rows]})
    return sample, class_counts(labels)


def separator_note(frame: pd.DataFrame) -> str | None:
    """ "Read as a CSV separated by semicolons (;)." when ``datasets.parse_table`` found a
    separator other than a comma; None otherwise."""
    from lib import datasets

    sep = frame.attrs.get("separator")
    if not sep or sep == ",":
        return None
    return f"Read as a CSV separated by {datasets.separator_name(sep)}."


def validate_columns(frame: pd.DataFrame, text_col: str, label_col: str, where: str):
    """The rows as labelled text, or a UserError (missing column, one class, ...)."""
    from lib import datasets

    if text_col == label_col:
        raise UserError("The text column and the label column must be different columns.")
    return datasets.from_frame(frame, text_col, label_col, where=where)
