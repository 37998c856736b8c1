"""Long documents as a document: each strategy's accuracy, speed and $ per 1M documents.

``long_documents(...)`` measures the strategies (``lib.measure.long_docs.measure_long_docs``),
prices each one's documents per second on the machine that measured it
(``lib.cost.payback.machine_rate``: $ per 1M documents = $/h / (documents/s x 3600 x
utilisation) x 1e6, at the cost model's default utilisation, with the rate's source and date),
adds one sentence per strategy and saves the document under the data folder
(``long-docs/``, by model and dataset), where the Results page and the report find it. The keys
are documented in docs/long-documents.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from lib.errors import UserError
from lib.format import fmt_usd
from lib.results.saved import SavedDocs

DOC_KIND = "long_documents"

Progress = Callable[[float, str], None]


def long_documents(
    model,
    dataset,
    strategies: Sequence[str] | None = None,
    adapt=None,
    *,
    device: str = "cpu",
    threads: int | None = None,
    progress: Progress | None = None,
    catalog=None,
    rate_option: str | None = None,
    save: bool = True,
) -> dict[str, Any]:
    """Measure, price and save; returns the document."""
    from lib.measure.long_docs import DEFAULT_STRATEGIES, measure_long_docs

    result = measure_long_docs(
        model,
        dataset,
        list(strategies or DEFAULT_STRATEGIES),
        adapt,
        device=device,
        threads=threads,
        progress=progress,
    )
    doc = price(result, catalog, rate_option)
    if save:
        save_long_docs(doc)
    return doc


def price(result: dict[str, Any], catalog=None, rate_option: str | None = None) -> dict[str, Any]:
    """The measured result with ``usd_per_million_docs`` per strategy, the rate, the sentences."""
    from lib.cost.catalog import load_catalog
    from lib.cost.formulas import CostAssumptions, usd_per_million
    from lib.cost.payback import machine_rate
    from lib.measure.long_docs import short_text_note

    doc = {
        **result,
        "kind": DOC_KIND,
        "version": 1,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    notes: list[str] = []
    utilisation = CostAssumptions().utilisation
    try:
        rate = machine_rate(result.get("environment") or {}, catalog or load_catalog(), rate_option)
    except UserError as exc:
        rate = None
        notes.append(f"No $ per 1M documents: {exc}")
    for s in doc["strategies"]:
        s["usd_per_million_docs"] = (
            usd_per_million(rate.hourly_usd, s["docs_per_s"], utilisation)
            if rate is not None and s["docs_per_s"] > 0
            else None
        )
    doc["rate"] = rate.to_dict() if rate is not None else None
    doc["utilisation"] = utilisation
    short = short_text_note(result)
    if short:
        notes.append(short)
    doc["notes"] = notes
    doc["sentences"] = [strategy_sentence(s, doc) for s in doc["strategies"]]
    return doc


def strategy_sentence(s: dict, doc: dict) -> str:
    """ "chunk:128:32:mean: 97.1% accurate (95% 95.2–98.3), 21 documents/s (48 ms each, 5.1
    windows), $0.23 per 1M documents on 2 vCPUs at c6i.xlarge's rate." """
    lo, hi = s["accuracy_ci"]
    text = (
        f"{s['strategy']}: {100 * s['accuracy']:.1f}% accurate (95% {100 * lo:.1f}–"
        f"{100 * hi:.1f}), {s['docs_per_s']:,.1f} documents/s ({s['latency_ms_mean']:,.1f} ms "
        f"each, {s['windows_per_doc']:.1f} window{'s' if s['windows_per_doc'] != 1 else ''})"
    )
    if s.get("usd_per_million_docs") is not None and doc.get("rate"):
        text += f", {fmt_usd(s['usd_per_million_docs'])} per 1M documents on {doc['rate']['label']}"
    if s.get("changes_nothing"):
        text += f"; no text is longer than {s['max_tokens']} tokens, so it changes nothing here"
    return text + "."


def lengths_sentence(doc: dict) -> str:
    """ "445 documents: median 482 tokens, 90% under 812, longest 4,512; 96% are longer than
    128 tokens, 24% longer than 512 (the model's maximum)." """
    st = doc.get("token_lengths") or {}
    if not st.get("n"):
        return "No documents."
    share = st.get("share_longer_than") or {}
    limit = str(doc.get("model_max_length"))
    parts = [
        f"{100 * v:.0f}% are longer than {k} tokens"
        + (" (the model's maximum)" if k == limit else "")
        for k, v in sorted(share.items(), key=lambda kv: int(kv[0]))
    ]
    return (
        f"{st['n']:,} documents: median {st['p50']:,.0f} tokens, 90% at most {st['p90']:,.0f}, "
        f"longest {st['max']:,}; " + ", ".join(parts) + "."
    )


def source_caption(doc: dict) -> str:
    """How the documents were timed, and where $ per 1M documents comes from."""
    text = f"Measured {doc.get('measured_as') or ''} on {doc.get('n_eval', '?')} eval documents, "
    text += f"{str(doc.get('created_at', ''))[:10]}."
    rate = doc.get("rate")
    if rate:
        from lib.cost.payback import MachineRate

        text += (
            f" $ per 1M documents at utilisation {doc.get('utilisation')}, at "
            f"{MachineRate(**rate).caption()}."
        )
    return text


# ------------------------------------------------------------------ frames
def strategies_frame(doc: dict) -> pd.DataFrame:
    """One row per strategy for people."""
    rows = []
    for s in doc.get("strategies") or []:
        lo, hi = s["accuracy_ci"]
        rows.append(
            {
                "Strategy": s["strategy"],
                "Accuracy (%)": 100 * s["accuracy"],
                "95% interval (%)": f"{100 * lo:.1f}–{100 * hi:.1f}",
                "Documents/s": s["docs_per_s"],
                "ms per document (p50)": s["latency_ms_p50"],
                "ms per document (p90)": s["latency_ms_p90"],
                "Windows per document": s["windows_per_doc"],
                "$ per 1M documents": s.get("usd_per_million_docs"),
                "Same prediction as the first": 100 * s.get("agreement_with_first", float("nan")),
            }
        )
    return pd.DataFrame(rows)


def by_length_frame(doc: dict) -> pd.DataFrame:
    """One row per strategy and length bin: strategy, median_tokens, docs_per_s, accuracy..."""
    rows = []
    for s in doc.get("strategies") or []:
        for b in s.get("by_length") or []:
            rows.append({"strategy": s["strategy"], **b})
    cols = ["strategy", "from", "to", "documents", "median_tokens", "accuracy"]
    return pd.DataFrame(rows, columns=[*cols, "latency_ms_mean", "docs_per_s"])


# ------------------------------------------------------------------ saved documents
_SAVED = SavedDocs(DOC_KIND, "long-docs", "long-docs")


def save_long_docs(doc: dict) -> Path:
    return _SAVED.save(doc)


def saved_long_docs(model: str, dataset: str) -> dict | None:
    return _SAVED.load(model, dataset)


def long_docs_for_run(run_doc: dict) -> dict | None:
    """A run document's own ``long_documents``, else the one saved for its model and dataset."""
    return _SAVED.for_run(run_doc)
