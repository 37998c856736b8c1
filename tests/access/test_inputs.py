"""Issue 17, points 3, 4 and 7 in the library: model folders only under the configured roots when
shared (symlinks resolved), pickled weights refused unless opted in locally, uploads limited in
size and stored under a generated name, credentials redacted everywhere they could show, CSV
exports that no spreadsheet runs, text escaped in the HTML report, the run queue capped."""

from __future__ import annotations

import os
import shutil

import pytest

from lib.access import limits, roots
from lib.access.redact import redact
from lib.access.text import escape_markdown, safe_cell
from lib.errors import UserError
from lib.spec import ModelSpec


@pytest.fixture
def shared(monkeypatch):
    monkeypatch.setenv("LEANBENCH_SHARED", "1")


@pytest.fixture
def local(monkeypatch):
    monkeypatch.setenv("LEANBENCH_SHARED", "0")
    monkeypatch.delenv("LEANBENCH_REQUIRE_LOGIN", raising=False)


def resolve(path):
    from lib.models import load

    return load.resolve(ModelSpec(str(path)))


# ------------------------------------------------------------------ model roots
def test_local_any_folder_goes(local, tiny_model_dir):
    assert resolve(tiny_model_dir).is_local


def test_shared_without_roots_no_folder_goes(shared, tiny_model_dir):
    with pytest.raises(UserError, match="LEANBENCH_MODEL_ROOTS"):
        resolve(tiny_model_dir)


def test_shared_only_under_a_root(shared, monkeypatch, tiny_model_dir, tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    inside = root / "tiny"
    shutil.copytree(tiny_model_dir, inside)
    monkeypatch.setenv("LEANBENCH_MODEL_ROOTS", os.pathsep.join([str(tmp_path / "x"), str(root)]))
    assert resolve(inside).is_local
    with pytest.raises(UserError, match="outside the model folders this server allows"):
        resolve(tiny_model_dir)
    with pytest.raises(UserError, match="outside"):  # not even whether it exists
        resolve("/etc/no-such-folder")
    with pytest.raises(UserError, match="outside"):
        resolve(root / ".." / "elsewhere")


def test_a_symlink_out_of_a_root_is_refused(shared, monkeypatch, tiny_model_dir, tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    (root / "escape").symlink_to(tiny_model_dir, target_is_directory=True)
    monkeypatch.setenv("LEANBENCH_MODEL_ROOTS", str(root))
    with pytest.raises(UserError, match="outside"):
        resolve(root / "escape")


def test_hub_ids_and_the_builtin_model_are_not_folders(shared):
    assert not resolve("someone/some-model").is_local
    assert resolve("minilm-l6").is_local


# ------------------------------------------------------------------ pickles
@pytest.fixture
def pickled_model(tiny_model_dir, tmp_path):
    folder = tmp_path / "pickled"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    return folder


def test_a_pickle_only_folder_is_refused(local, monkeypatch, pickled_model):
    monkeypatch.delenv("LEANBENCH_ALLOW_PICKLE", raising=False)
    with pytest.raises(UserError, match="pickle .*pytorch_model.bin.*LEANBENCH_ALLOW_PICKLE=1"):
        resolve(pickled_model)


def test_a_pickle_loads_when_opted_in_locally(local, monkeypatch, pickled_model):
    monkeypatch.setenv("LEANBENCH_ALLOW_PICKLE", "1")
    assert resolve(pickled_model).is_local


def test_never_a_pickle_when_shared(shared, monkeypatch, pickled_model):
    monkeypatch.setenv("LEANBENCH_ALLOW_PICKLE", "1")
    monkeypatch.setenv("LEANBENCH_MODEL_ROOTS", str(pickled_model.parent))
    with pytest.raises(UserError, match="shared, so pickles are never loaded"):
        resolve(pickled_model)


def test_safetensors_beside_a_pickle_is_fine(local, tiny_model_dir):
    (tiny_model_dir / "training_args.bin").write_bytes(b"\x80\x04N.")
    try:
        roots.check_weights(tiny_model_dir)
    finally:
        (tiny_model_dir / "training_args.bin").unlink()


# ------------------------------------------------------------------ uploads
def test_an_upload_over_the_limit_is_refused_before_it_is_saved(monkeypatch, isolated_home):
    from lib import uploads

    monkeypatch.setenv("LEANBENCH_MAX_UPLOAD_MB", "1")
    big = b"text,label\n" + b"x" * (1024 * 1024)
    with pytest.raises(UserError, match=r"limited to 1 MB \(LEANBENCH_MAX_UPLOAD_MB\)"):
        uploads.save_upload(big, "big.csv")
    assert not (isolated_home / "uploads").exists() or not any(
        (isolated_home / "uploads").iterdir()
    )


def test_an_upload_gets_a_generated_name_under_the_data_folder(isolated_home):
    from lib import uploads

    raw = b"text,label\ngood,1\nbad,0\n"
    path = uploads.save_upload(raw, "../../../etc/passwd.csv")
    assert path.parent == isolated_home / "uploads"
    assert path.name != "passwd.csv" and len(path.stem) == 16 and path.suffix == ".csv"
    with pytest.raises(UserError, match="upload a .csv or .jsonl"):
        uploads.save_upload(raw, "model.pkl")


def test_the_upload_page_refuses_a_file_over_the_limit(monkeypatch):
    from tests.pages.test_pages import app, errors, upload

    monkeypatch.setenv("LEANBENCH_MAX_UPLOAD_MB", "1")
    at = upload(app("pages/model_data.py"), "big.csv", b"text,label\n" + b"y" * 1_100_000)
    assert "limited to 1 MB" in errors(at)


# ------------------------------------------------------------------ the queue cap
def test_the_queue_is_capped(monkeypatch):
    from lib.execution import jobs
    from lib.spec import RunSpec, default_spec_dict
    from lib.store import Store

    class FakeWorker:
        def __init__(self, *args, **kwargs):
            self.pid = os.getpid()  # alive: never reaped
            FakeWorker.env = kwargs.get("env") or {}
            FakeWorker.args = args[0]

    monkeypatch.setattr(jobs.subprocess, "Popen", FakeWorker)
    monkeypatch.setenv("LEANBENCH_MAX_QUEUED", "2")
    store = Store()
    specs = [RunSpec.from_dict({**default_spec_dict(), "name": f"run {i}"}) for i in range(3)]
    jobs.start_background(specs[0], store)
    jobs.start_background(specs[1], store)
    with pytest.raises(UserError, match=r"The queue is full: 2 runs .* at most 2"):
        jobs.start_background(specs[2], store)
    assert len(store.list_runs()) == 2
    # The store URL reaches the worker in its environment, not on its command line.
    assert store.url not in FakeWorker.args and FakeWorker.env["LEANBENCH_STORE"] == store.url


def test_a_bad_queue_setting_says_so(monkeypatch):
    monkeypatch.setenv("LEANBENCH_MAX_QUEUED", "lots")
    with pytest.raises(UserError, match="LEANBENCH_MAX_QUEUED"):
        limits.max_queued()


# ------------------------------------------------------------------ redaction
@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
        ("postgresql+psycopg2://bob:p@ss@db:5432/x", "postgresql+psycopg2://bob:***@db:5432/x"),
        ("error at mysql://root:hunter2@10.0.0.1 now", "error at mysql://root:***@10.0.0.1 now"),
        ("https://ghp_0123456789abcdefXYZ@github.com/x", "https://***@github.com/x"),
        ("db?user=a&password=hunter2&x=1", "db?user=a&password=***&x=1"),
        (
            "sqlite:////home/me/.leanbench/leanbench.db",
            "sqlite:////home/me/.leanbench/leanbench.db",
        ),
    ],
)
def test_redact(text, shown):
    assert redact(text) == shown


def test_store_errors_never_show_the_password():
    from lib.store import Store

    with pytest.raises(UserError) as bad:
        Store("nosuchdialect://bob:hunter2-secret@db/x")
    assert "hunter2-secret" not in str(bad.value) and "bob:***@db" in str(bad.value)
    with pytest.raises(UserError) as refused:
        Store("postgresql+psycopg2://bob:hunter2-secret@127.0.0.1:1/x")  # nothing listens there
    assert "Cannot open the store" in str(refused.value)
    assert "hunter2-secret" not in str(refused.value)


# ------------------------------------------------------------------ the report and exports
def _docs(name: str, model: str = "minilm-l6", error: str = "no kernel"):
    from tests.helpers.runs import make_doc, result

    rows = [
        result("fp32", "fp32", 0.9, 10, 100, 90),
        result("half", "fp16", 0.89, 5, 50, 45),
        {"variant": "int8", "status": "failed", "error": error},
    ]
    doc = make_doc(run_id="r1", name=name, results=rows)
    doc["spec"]["model"]["source"] = model
    return [doc]


def test_the_report_escapes_and_redacts_what_users_typed():
    from lib.report import html as report

    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    out = report.build_report(
        _docs(hostile, model=hostile, error="at postgresql://u:hunter2-secret@h/db: " + hostile)
    )
    assert "<script>alert(1)" not in out and "<img src=x" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "hunter2-secret" not in out


def test_csv_exports_cannot_run_formulas():
    import pandas as pd

    from lib.access.text import to_csv
    from lib.report import html as report

    df = pd.DataFrame({"variant": ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "ok"]})
    df["accuracy"] = [-0.5, 0.1, 0.2, 0.3, 0.4]
    lines = to_csv(df).splitlines()
    assert lines[1].startswith("\"'=HYPERLINK") and lines[2].startswith("'+1")
    assert lines[3] == "'-2,0.2" and lines[4].startswith("'@SUM") and lines[5] == "ok,0.4"
    assert lines[1].endswith(",-0.5")  # numbers stay numbers
    frame = report.export_frame(
        pd.DataFrame({"run_label": ["=cmd|' /C calc'!A0"], "variant": ["x"]})
    )
    assert report.export_csv(frame).splitlines()[1].startswith("'=cmd")


def test_a_dataset_formula_is_kept_as_text_in_the_results_csv():
    assert safe_cell("=1+1") == "'=1+1" and safe_cell(-1.5) == -1.5 and safe_cell("a=b") == "a=b"


def test_markdown_in_names_is_shown_as_typed():
    assert escape_markdown("[x](http://e) ![i](http://e/p.png)") == (
        "\\[x\\](http://e) !\\[i\\](http://e/p.png)"
    )
    assert escape_markdown("# big\n- item $x$ **b** <http://e>") == (
        "\\# big - item \\$x\\$ \\*\\*b\\*\\* \\<http://e\\>"  # one line: no list
    )
