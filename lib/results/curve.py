"""The learning curve as a document: how many labels are enough for the accuracy you need.

``learning_curve(...)`` loads the data, takes the same train/eval split a run takes
(``lib.datasets.split``: the eval examples depend only on the data and the seed), trains a new
head on nested, stratified subsets of the train split (``lib.training.curve``, each point cached)
and writes the curve document (its keys are documented in docs/long-documents.md, "The learning
curve"):

- ``points``: one per (size, seed): ``n_labels``, ``seed``, ``accuracy``, ``accuracy_ci`` (95%
  Wilson interval over the eval examples), ``seconds`` (the fine-tuning), ``usd`` (those seconds
  on the machine that trained it, ``lib.cost.payback.machine_rate``), ``steps``, ``epochs``,
  ``cached``;
- ``by_size``: per size, the mean accuracy over its seeds and an interval that holds every seed's
  95% interval (``[min of lows, max of highs]``): the eval examples' noise and the draw of
  labelled examples both widen it;
- ``labels_needed``: the smallest size whose **mean** accuracy over its seeds reaches the target,
  or null when none does. ``labels_needed_ci``: ``[smallest size whose interval's top reaches
  the target, smallest size whose interval's bottom does]``: as few labels as the first might
  already do, the second is needed to be sure (95%); its top is null when no size is sure;
- ``best``: the size with the highest mean accuracy; ``reached``; ``sentence``; ``notes``.

The document is saved under the data folder (``curves/``) by model and dataset, where the
Results page and the report find it (``saved_curve``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from lib.errors import UserError
from lib.format import fmt_usd
from lib.results.saved import SavedDocs
from lib.spec import DatasetSpec, ModelSpec

DOC_KIND = "learning_curve"
DEFAULT_TARGET = 0.8

Progress = Callable[[float, str], None]


def learning_curve(
    model: ModelSpec,
    dataset: DatasetSpec,
    sizes: Sequence[int] | None = None,
    seeds: int | None = None,
    target: float | None = DEFAULT_TARGET,
    settings=None,
    *,
    multi_seed_up_to: int | None = None,
    device: str = "cpu",
    threads: int | None = None,
    progress: Progress | None = None,
    catalog=None,
    rate_option: str | None = None,
    save: bool = True,
) -> dict[str, Any]:
    """Train and measure the curve; returns (and saves) its document."""
    import torch

    from lib import datasets
    from lib.measure import environment
    from lib.models import load as models
    from lib.training import curve as training

    if target is not None and not 0 < target <= 1:
        raise UserError(f"The target accuracy is a fraction above 0 and at most 1 (got {target}).")
    if threads:
        torch.set_num_threads(threads)
    sizes = list(sizes or training.DEFAULT_SIZES)
    seeds = training.DEFAULT_SEEDS if seeds is None else seeds
    up_to = training.MULTI_SEED_UP_TO if multi_seed_up_to is None else multi_seed_up_to
    settings = settings or training.CurveSettings()
    resolved = models.resolve(model)
    config = models.load_config(resolved)
    data = datasets.load(dataset)
    train, evals = datasets.split(data, len(data), dataset.eval_limit, dataset.seed)
    datasets.check_eval_size(data, dataset)  # too few eval examples to mean anything
    kept, notes = training.check_sizes(sizes, len(train), len(data.label_names))
    fit = models.head_fit(config, data.label_names)
    if fit.kind != "adapt":
        notes.append(
            f"This model's own head already fits these labels ({fit.sentence}): a run uses it "
            "without training. The curve trains a new head on each subset all the same."
        )
    env = environment.capture(device, torch.get_num_threads())
    points = training.train_points(
        resolved.location,
        resolved.is_local,
        resolved.identity,
        train,
        evals,
        kept,
        seeds,
        settings,
        multi_seed_up_to=up_to,
        environment=env,
        progress=progress,
        device=device,
    )
    doc = curve_document(points, target, env, catalog, rate_option)
    doc.update(
        model=model.source,
        dataset=dataset.source,
        eval={"n_eval": len(evals), "seed": dataset.seed, "eval_limit": dataset.eval_limit},
        train_pool=len(train),
        labels=data.label_names,
        sizes=kept,
        seeds=seeds,
        multi_seed_up_to=up_to,
        settings=settings.to_dict(),
    )
    doc["notes"] = notes + doc["notes"]
    if save:
        save_curve(doc)
    return doc


def curve_document(
    points: list, target: float | None, env: dict, catalog=None, rate_option: str | None = None
) -> dict[str, Any]:
    """The document of trained points (``lib.training.curve.Point``): intervals, the labels
    needed, the best size, cost per point, sentence and notes."""
    from lib.cost.catalog import load_catalog
    from lib.cost.payback import machine_rate, one_off_usd
    from lib.measure.stats import accuracy_ci

    notes: list[str] = []
    rate = None
    try:
        rate = machine_rate(env, catalog or load_catalog(), rate_option)
    except UserError as exc:
        notes.append(f"No cost per point: {exc}")
    rows = []
    for p in points:
        low, high = accuracy_ci(p.correct, p.n_eval)
        rows.append(
            {
                "n_labels": p.n_labels,
                "seed": p.seed,
                "accuracy": p.accuracy,
                "accuracy_ci": [low, high],
                "n_eval": p.n_eval,
                "seconds": p.seconds,
                "usd": one_off_usd(p.seconds, rate) if rate is not None else None,
                "steps": p.steps,
                "epochs": p.epochs,
                "cached": p.cached,
                "trained_on": _where(p.trained_on),
            }
        )
    by_size = summarise(rows)
    needed, needed_ci = labels_needed(by_size, target)
    best = max(by_size, key=lambda r: r["accuracy_mean"]) if by_size else None
    doc: dict[str, Any] = {
        "kind": DOC_KIND,
        "version": 1,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "target": target,
        "points": rows,
        "by_size": by_size,
        "labels_needed": needed,
        "labels_needed_ci": needed_ci,
        "labels_needed_rule": (
            "the smallest size whose mean accuracy over its seeds reaches the target; the "
            "interval runs from the smallest size whose 95% interval's top reaches it to the "
            "smallest whose bottom does (null: no size is sure to)"
        ),
        "reached": needed is not None,
        "best": {"n_labels": best["n_labels"], "accuracy": best["accuracy_mean"]} if best else None,
        "rate": rate.to_dict() if rate is not None else None,
        "environment": {
            k: env.get(k) for k in ("cpu_model", "threads", "device", "gpu_name", "date", "torch")
        },
        "trained": sum(1 for r in rows if not r["cached"]),
        "train_seconds_total": sum(r["seconds"] for r in rows),
        "notes": notes,
    }
    doc["notes"] += _dips(by_size, target, needed)
    doc["sentence"] = curve_sentence(doc)
    return doc


def _where(env: dict) -> str:
    from lib.cost.payback import machine_label

    return machine_label(env) if env else ""


def summarise(points: list[dict]) -> list[dict]:
    """Per size: seeds, mean accuracy, the interval holding every seed's 95% interval, spread,
    mean seconds and $."""
    out = []
    sizes = sorted({p["n_labels"] for p in points})
    for n in sizes:
        ps = [p for p in points if p["n_labels"] == n]
        accs = [p["accuracy"] for p in ps]
        usd = [p["usd"] for p in ps if p.get("usd") is not None]
        out.append(
            {
                "n_labels": n,
                "seeds": len(ps),
                "accuracy_mean": sum(accs) / len(accs),
                "accuracy_min": min(accs),
                "accuracy_max": max(accs),
                "accuracy_ci": [
                    min(p["accuracy_ci"][0] for p in ps),
                    max(p["accuracy_ci"][1] for p in ps),
                ],
                "seconds_mean": sum(p["seconds"] for p in ps) / len(ps),
                "usd_mean": sum(usd) / len(usd) if usd else None,
            }
        )
    return out


def labels_needed(
    by_size: list[dict], target: float | None
) -> tuple[int | None, list[int | None] | None]:
    """(smallest size whose mean reaches ``target``, [smallest whose interval top reaches it,
    smallest whose interval bottom does]); (None, None) without a target."""
    if target is None or not by_size:
        return None, None
    eps = 1e-12
    mean = next((r["n_labels"] for r in by_size if r["accuracy_mean"] + eps >= target), None)
    early = next((r["n_labels"] for r in by_size if r["accuracy_ci"][1] + eps >= target), None)
    sure = next((r["n_labels"] for r in by_size if r["accuracy_ci"][0] + eps >= target), None)
    if early is None:
        return mean, None
    return mean, [early, sure]


def retarget(doc: dict, target: float | None) -> dict:
    """The same points read against another target: nothing is trained."""
    needed, ci = labels_needed(doc.get("by_size") or [], target)
    out = {**doc, "target": target, "labels_needed": needed, "labels_needed_ci": ci}
    out["reached"] = needed is not None
    out["notes"] = [n for n in doc.get("notes") or [] if "falls below the target" not in n]
    out["notes"] += _dips(out.get("by_size") or [], target, needed)
    out["sentence"] = curve_sentence(out)
    return out


def _dips(by_size: list[dict], target: float | None, needed: int | None) -> list[str]:
    if target is None or needed is None:
        return []
    later = [r for r in by_size if r["n_labels"] > needed and r["accuracy_mean"] < target]
    if not later:
        return []
    sizes = ", ".join(f"{r['n_labels']:,}" for r in later)
    return [
        f"The mean accuracy falls below the target again at {sizes} labels: the curve is that "
        "noisy there; read the interval, not the first size that touches the line."
    ]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def curve_sentence(doc: dict) -> str:
    """ "1,000 labels reach 80% accuracy (mean of 1 seed, 81.2%); with 95% confidence between
    500 and 2,000. Training on them took 95 s ($0.0022)." or why the target was never reached."""
    target = doc.get("target")
    by = doc.get("by_size") or []
    if not by:
        return "No point of the curve was measured."
    best = max(by, key=lambda r: r["accuracy_mean"])
    spread = (best["accuracy_ci"][1] - best["accuracy_ci"][0]) / 2
    if target is None:
        return (
            f"The best accuracy is {_pct(best['accuracy_mean'])} (±{100 * spread:.1f} points) with "
            f"{best['n_labels']:,} labels."
        )
    needed = doc.get("labels_needed")
    if needed is None:
        largest = by[-1]["n_labels"]
        return (
            f"No subset reached the {_pct(target)} target: the best was "
            f"{_pct(best['accuracy_mean'])} (±{100 * spread:.1f} points) with "
            f"{best['n_labels']:,} labels, and the largest subset tried was {largest:,}. More "
            "labels, more epochs or a larger model might reach it; or lower the target."
        )
    row = next(r for r in by if r["n_labels"] == needed)
    seeds = row["seeds"]
    text = (
        f"{needed:,} labels reach the {_pct(target)} target (mean {_pct(row['accuracy_mean'])} "
        f"over {seeds} seed{'s' if seeds != 1 else ''})"
    )
    ci = doc.get("labels_needed_ci")
    if ci and ci[1] is not None and ci[0] != ci[1]:
        text += f"; with 95% confidence somewhere from {ci[0]:,} to {ci[1]:,}"
    elif ci and ci[1] is None:
        text += (
            f"; as few as {ci[0]:,} might, but no size tried is sure to (95%): its interval's "
            "bottom stays below the target"
        )
    elif ci:
        text += f"; {ci[0]:,} is sure to (95%)"
    usd = row.get("usd_mean")
    cost = (
        f" ({fmt_usd(usd)} on {doc['rate']['label']})"
        if usd is not None and doc.get("rate")
        else ""
    )
    return text + f". Fine-tuning on them took {row['seconds_mean']:,.0f} s{cost}."


def source_caption(doc: dict) -> str:
    """Where the curve was measured and where its cost comes from, with the price's source and
    date and what makes it an estimate."""
    ev = doc.get("eval") or {}
    text = (
        f"{doc.get('model')} on {doc.get('dataset')}: accuracy on {ev.get('n_eval', '?')} eval "
        f"examples, measured {str(doc.get('created_at', ''))[:10]}."
    )
    rate = doc.get("rate")
    if rate:
        from lib.cost.payback import MachineRate

        text += f" Cost: the fine-tuning seconds at {MachineRate(**rate).caption()}."
    return text


# ------------------------------------------------------------------ frames
def points_frame(doc: dict) -> pd.DataFrame:
    """One row per point: n_labels, seed, accuracy, low, high, seconds, usd, cached."""
    rows = []
    for p in doc.get("points") or []:
        ci = p.get("accuracy_ci") or [math.nan, math.nan]
        rows.append(
            {
                "n_labels": p["n_labels"],
                "seed": p["seed"],
                "accuracy": p["accuracy"],
                "low": ci[0],
                "high": ci[1],
                "seconds": p.get("seconds"),
                "usd": p.get("usd"),
                "cached": p.get("cached"),
            }
        )
    return pd.DataFrame(
        rows, columns=["n_labels", "seed", "accuracy", "low", "high", "seconds", "usd", "cached"]
    )


def display_frame(doc: dict) -> pd.DataFrame:
    """The per-size table for people (accuracy to 0.1 point, seconds to 0.1 s)."""
    rows = []
    for r in doc.get("by_size") or []:
        rows.append(
            {
                "Labels": r["n_labels"],
                "Seeds": r["seeds"],
                "Accuracy (mean, %)": round(100 * r["accuracy_mean"], 1),
                "95% interval (%)": f"{100 * r['accuracy_ci'][0]:.1f}–{100 * r['accuracy_ci'][1]:.1f}",
                "Fine-tuning (s)": round(r["seconds_mean"], 1),
                "Cost": fmt_usd(r["usd_mean"]) if r.get("usd_mean") is not None else "–",
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ saved curves
_SAVED = SavedDocs(DOC_KIND, "curves", "curve")


def curve_path(model: str, dataset: str) -> Path:
    return _SAVED.path(model, dataset)


def save_curve(doc: dict) -> Path:
    return _SAVED.save(doc)


def saved_curve(model: str, dataset: str) -> dict | None:
    """The latest curve saved for this model and dataset, or None."""
    return _SAVED.load(model, dataset)


def curve_for_run(run_doc: dict) -> dict | None:
    """A run document's own ``learning_curve``, else the curve saved for its model and dataset."""
    return _SAVED.for_run(run_doc)
