"""Demo mode: real results recorded with Leanbench, bundled in ``data/demo/*.json``.

Each file is a run document as ``python -m lib run --out`` or ``python -m lib show`` writes it
(``run_id``, ``name``, ``spec``, ``environment``, ``baseline``, ``results``). ``load_demo(store)``
imports every one into a store under its own run id, marked as demo data and labelled with the
hardware and the date it was recorded on. Importing twice changes nothing. No network, no model,
no benchmarking: it only copies JSON into the store.

Learning curves recorded for the same model and data (``python -m lib curve --out``) lie in
``curves/`` beside them; loading the demo saves each where the pages look for one
(``lib.results.curve.save_curve``) unless the user already has a curve for that model and data.

``LEANBENCH_DEMO_DIR`` points at another folder of documents (tests, a sales engineer's own set).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from lib.errors import UserError
from lib.measure.environment import hardware_label
from lib.paths import REPO_DATA
from lib.schema import RunDocument

DEMO_DIR = REPO_DATA / "demo"
PREFIX = "demo-"
CURVES = "curves"  # learning curves of the demo's model and data, beside the run documents


def demo_dir() -> Path:
    return Path(os.environ.get("LEANBENCH_DEMO_DIR") or DEMO_DIR).expanduser()


def demo_files(folder: Path | None = None) -> list[Path]:
    folder = folder or demo_dir()
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def demo_available(folder: Path | None = None) -> bool:
    """True when at least one bundled demo document can be read."""
    try:
        return bool(demo_docs(folder))
    except UserError:
        return False


def _parse_date(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def demo_run_id(doc: dict, path: Path) -> str:
    """The id a bundled run gets in the store: its recorded id, marked as demo (stable)."""
    rid = str(doc.get("run_id") or hashlib.sha256(path.name.encode()).hexdigest()[:12])
    rid = rid if rid.startswith(PREFIX) else PREFIX + rid
    return rid[:36]


def read_demo_doc(path: Path) -> dict:
    """One bundled document, checked, with ``demo`` labels added (hardware and date recorded)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"Demo file {path.name} cannot be read: {exc}.") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"Demo file {path.name} is not valid JSON ({exc.msg}).") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise UserError(
            f"Demo file {path.name} is not a run document (it needs a 'results' list, as "
            "written by 'python -m lib run --out')."
        )
    run = RunDocument.from_dict(doc, source=f"Demo file {path.name}")
    env = run.environment
    recorded = _parse_date(env.get("date")) or _parse_date(run.created_at)
    extra = dict(run.baseline)
    extra.update(
        demo=True,
        demo_file=path.name,
        recorded_on=extra.get("recorded_on") or (hardware_label(env) if env else "unknown"),
        recorded_at=recorded.date().isoformat() if recorded else "date not recorded",
    )
    run.run_id = demo_run_id(doc, path)
    run.baseline = extra
    run.created_at = recorded.isoformat() if recorded else None
    return run.to_dict()


def demo_docs(folder: Path | None = None) -> list[dict]:
    """Every bundled document, read and labelled (UserError names a broken file)."""
    return [read_demo_doc(p) for p in demo_files(folder)]


def demo_curves(folder: Path | None = None) -> list[dict]:
    """The bundled learning curves (``curves/*.json``), marked ``demo``; UserError names a
    broken file."""
    from lib.results.curve import DOC_KIND

    where = (folder or demo_dir()) / CURVES
    out = []
    for path in sorted(where.glob("*.json")) if where.is_dir() else []:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise UserError(
                f"The bundled learning curve {path.name} cannot be read: {exc}"
            ) from exc
        if not isinstance(doc, dict) or doc.get("kind") != DOC_KIND:
            raise UserError(f"{path.name} in the demo's curves is not a learning curve.")
        out.append({**doc, "demo": True})
    return out


def load_demo(store, folder: Path | None = None) -> list[str]:
    """Import the bundled runs into ``store``; returns their run ids (already present: skipped).

    Each run is written in one transaction: a run row (status 'done', name prefixed 'Demo:')
    and its results in their recorded order."""
    from lib.store import results, runs

    ids = []
    for doc in demo_docs(folder):
        run_id = doc["run_id"]
        ids.append(run_id)
        if store.get_run(run_id) is not None:
            continue
        extra = doc["baseline"]
        created = _parse_date(doc.get("created_at")) or dt.datetime.now(dt.UTC)
        name = str(doc.get("name") or "").strip()
        spec = doc.get("spec") or {}
        if not name:
            model = (spec.get("model") or {}).get("source", "model")
            data = (spec.get("dataset") or {}).get("source", "data")
            name = f"{model} on {Path(str(data)).name}"
        label = f"demo data recorded on {extra['recorded_on']}, {extra['recorded_at']}"
        with store.engine.begin() as c:
            c.execute(
                runs.insert().values(
                    id=run_id,
                    name=name if name.startswith("Demo:") else f"Demo: {name}"[:200],
                    created_at=created,
                    finished_at=created,
                    status="done",
                    message=label,
                    progress=1.0,
                    spec=spec,
                    environment=doc.get("environment") or {},
                    hardware=str(extra["recorded_on"])[:200],
                    host="demo",
                    extra=extra,
                )
            )
            for i, r in enumerate(x for x in doc["results"] if isinstance(x, dict)):
                c.execute(
                    results.insert().values(
                        run_id=run_id,
                        position=i,
                        variant=str(r.get("variant", "?"))[:200],
                        status=r.get("status", "ok"),
                        created_at=created,
                        data=r,
                    )
                )
    _install_curves(folder)
    return ids


def _install_curves(folder: Path | None) -> None:
    from lib.results.curve import save_curve, saved_curve

    for doc in demo_curves(folder):
        if saved_curve(str(doc.get("model")), str(doc.get("dataset"))) is None:
            save_curve(doc)


def is_demo(run: dict) -> bool:
    """A run row or run document that came from the bundled demo set."""
    extra = run.get("extra") or run.get("baseline") or {}
    return bool(extra.get("demo")) or str(run.get("id") or run.get("run_id") or "").startswith(
        PREFIX
    )


# ------------------------------------------------------------------ the story, in plain words
def explain_variant(text: str) -> str:
    """What a variant does, in plain words, e.g. 'distill:3+int8@ort'."""
    text = str(text).strip()
    chain, _, runtime = text.partition("@")
    # The words come from the torch-free configs, so the demo still opens instantly.
    from lib.runtimes.configs import RUNTIMES
    from lib.techniques.configs import TECHNIQUES

    sentences = []
    for step in chain.split("+"):
        name, _, param = step.strip().partition(":")
        config = TECHNIQUES.get(name)
        if config is None or not config.story:
            sentences.append(f"A custom step '{step.strip()}'.")
            continue
        words = config.story
        if param and config.story_param:
            words = config.story_param.format(param=param) + words
        sentences.append(words)
    if runtime and runtime != "eager":
        served = RUNTIMES[runtime].served if runtime in RUNTIMES else None
        sentences.append(f"Then {served or f'served with the {runtime} runtime'}.")
    return " ".join(sentences)


def breakeven_sentence(df, candidate_variant: str, run_id: str) -> str | None:
    """Whether buying pays back, for one variant of one run, from a ``compare_frame`` with an
    owned option in it (None when there is none)."""
    import math

    from lib.format import fmt_usd

    rows = df[
        (df["run_id"] == run_id)
        & (df["variant"] == candidate_variant)
        & (df.get("option_kind") == "owned")
    ]
    rows = rows[rows["capex_usd"].notna()] if "capex_usd" in rows else rows.iloc[0:0]
    if rows.empty:
        return None
    r = rows.sort_values("breakeven_months", na_position="last").iloc[0]
    vs, months = r.get("breakeven_vs"), r.get("breakeven_months")
    if not isinstance(vs, str) or not vs or months is None or math.isnan(months):
        return None
    buy = f"Buying {r['option'].removesuffix(' (owned)')} for {fmt_usd(r['capex_usd'])}"
    if math.isinf(months):
        return (
            f"{buy} never pays back against renting {vs} at this volume: renting is cheaper to run."
        )
    return f"{buy} pays back in {months:.1f} months against renting {vs} at this volume."
