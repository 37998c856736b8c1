"""Dataset files as a user uploads them (Model & data) or names them (``--dataset``): any bytes,
CSV-like text with quotes, separators and formulas, JSONL lines of any JSON value (deeply nested
ones included). Each is read and its columns checked the way the page does, or a UserError says
what is wrong."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from lib import datasets, uploads
from tests.fuzz.common import FUZZ, json_values, loads_or_user_error

NAMES = st.sampled_from(["data.csv", "data.tsv", "data.jsonl", "data.json", "data.ndjson"])
cells = st.text(max_size=10) | st.sampled_from(["=1+1", "@SUM(A1)", '"quoted, cell"', '"', "-3"])


def _page_flow(raw: bytes, name: str) -> None:
    """What Model & data does with an upload: read it, guess the columns, check them, count."""
    frame = datasets.parse_table(raw, name)
    frame.columns = [str(c) for c in frame.columns]
    text, label = uploads.pick_columns(frame, None, None)
    data = uploads.validate_columns(frame, text, label, name)
    uploads.class_counts([data.label_names[i] for i in data.labels])
    uploads.preview(data.texts, [data.label_names[i] for i in data.labels])
    datasets.eval_size(data, len(data), len(data)).problem()


@FUZZ
@given(st.binary(max_size=400), NAMES)
def test_any_bytes(raw, name):
    loads_or_user_error(_page_flow, raw, name)


@FUZZ
@given(
    st.lists(st.lists(cells, min_size=1, max_size=4), min_size=1, max_size=12),
    st.sampled_from([",", ";", "\t", "|"]),
)
def test_csv_like_text(rows, sep):
    raw = "\n".join(sep.join(r) for r in rows).encode()
    loads_or_user_error(_page_flow, raw, "data.csv")


@FUZZ
@given(st.lists(json_values, min_size=1, max_size=10))
def test_jsonl_lines_of_any_value(values):
    raw = "\n".join(json.dumps(v) for v in values).encode()
    loads_or_user_error(_page_flow, raw, "data.jsonl")


@FUZZ
@given(
    st.lists(
        st.fixed_dictionaries(
            {"text": st.text(max_size=20) | json_values, "label": st.sampled_from(["a", "b", 1])}
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(min_value=0, max_value=3000),
)
def test_jsonl_with_deeply_nested_values(rows, depth):
    nested = "[" * depth + "]" * depth
    lines = [json.dumps(r) for r in rows] + ['{"text": ' + nested + ', "label": "a"}']
    loads_or_user_error(_page_flow, "\n".join(lines).encode(), "data.jsonl")


def test_deep_nesting_is_a_user_error_that_says_so():
    from lib.errors import UserError

    raw = '{"text": ' + "[" * 50 + "]" * 50 + ', "label": "a"}\n{"text": "b", "label": "c"}'
    try:
        datasets.parse_table(raw.encode(), "deep.jsonl")
    except UserError as exc:
        assert "nests lists or objects more than 20 levels deep" in str(exc)
    else:
        raise AssertionError("a value nested 50 deep was read")
