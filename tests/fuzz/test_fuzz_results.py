"""Results files as a user hands them to Leanbench: a results JSON for Cost (upload or
``--results``), a run document for ``report``/``show``, a demo file imported into the store. Any
JSON value, and real documents with values replaced, loads or gives a UserError."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from lib.demo import story
from lib.schema import RunDocument, VariantResult, load_results, load_runs
from lib.store import Store
from tests.fuzz.common import FUZZ, json_values, loads_or_user_error, mutate
from tests.helpers.runs import make_doc, result

DOC = make_doc(
    run_id="r1",
    results=[
        result("fp32", "fp32", 0.9, 10, 100, 90),
        result("int8", "int8", 0.88, 5, 40, 25, p=0.2),
        result("prune50", "fp32", 0, 0, 0, 0, status="failed"),
    ],
)


def _read_all(value) -> None:
    docs = load_runs(value)
    for doc in docs:
        doc.to_dict()
        for r in doc.results:
            assert isinstance(r, VariantResult)
            r.latency(1)
            r.ok  # noqa: B018 - a property that reads the status
    load_results(value)


@FUZZ
@given(json_values)
def test_any_json_value(value):
    loads_or_user_error(_read_all, value)
    loads_or_user_error(RunDocument.from_dict, value)


@FUZZ
@given(st.data())
def test_documents_with_values_changed(data):
    doc = mutate(DOC, data)
    loads_or_user_error(_read_all, doc)
    loads_or_user_error(_read_all, [doc, DOC])


@FUZZ
@given(st.data())
def test_results_with_values_changed(data):
    rows = [mutate(r, data) for r in DOC["results"]]
    loads_or_user_error(_read_all, {**DOC, "results": rows})


@FUZZ
@given(st.data(), st.booleans())
def test_a_results_file(tmp_path_factory, data, broken):
    path = tmp_path_factory.mktemp("results") / "results.json"
    text = json.dumps(mutate(DOC, data))
    path.write_text(data.draw(st.text(max_size=80), label="text") if broken else text)
    loads_or_user_error(_read_all, path)
    loads_or_user_error(RunDocument.load_json, path)


@FUZZ
@given(st.data())
def test_a_demo_file_imported_into_the_store(tmp_path_factory, data):
    folder: Path = tmp_path_factory.mktemp("demo")
    (folder / "run.json").write_text(json.dumps(mutate(DOC, data), allow_nan=True))
    store = Store(f"sqlite:///{folder / 'store.db'}")
    ids = loads_or_user_error(story.load_demo, store, folder)
    for run_id in ids or []:
        store.run_document(run_id)
