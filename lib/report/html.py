"""A shareable report: one self-contained HTML file, plus CSV and JSON exports of the results.

``build_report(run_docs, ...)`` returns the HTML text: the question, the recommendation with the
numbers it rests on, every chart (interactive plotly, its JavaScript inlined once so the file
opens offline), the tables, the setup, the environment and every assumption (cost assumptions,
the price rows used with their sources and dates, how latency and significance were judged).
Every string that came from a user or a run (names, paths, labels) is escaped.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from typing import Any, cast

import pandas as pd

from lib import compare as cmp
from lib.access.redact import redact, redact_strings
from lib.access.text import to_csv as safe_csv
from lib.compare.recommendation import add_payback
from lib.errors import UserError
from lib.format import fmt_usd
from lib.schema import RunDocument

QUESTION = (
    "If we make this model smaller or faster, what do we lose in accuracy, what do we gain in "
    "speed, and what does it cost to serve?"
)

EXPORT_COLUMNS = [
    "run_id",
    "run_label",
    "model",
    "dataset",
    "hardware",
    "device",
    "date",
    "demo",
    "variant",
    "status",
    "error",
    "runtime",
    "precision",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "accuracy_delta_pts",
    "p_value_vs_baseline",
    "significant",
    "macro_f1",
    "agreement",
    "n_eval",
    "latency_batch",
    "p50_ms",
    "p95_ms",
    "p95_basis",
    "throughput_per_s",
    "speedup",
    "size_mb",
    "size_ratio_vs_fp32",
    "params",
    "peak_memory_mb",
    "energy_j_per_1k",
    "option",
    "option_kind",
    "usd_per_million",
    "cost_ratio_vs_fp32",
    "cost_source",
    "cost_batch",
    "hourly_usd",
    "price_source",
    "price_date",
    "cost_note",
    "applicable",
    "cost_reason",
    "priced_as",
    "latency_basis",
    "load_tested",
    "load_slo_ms",
    "load_goodput_qps",
    "load_p99_ms",
    "load_qps_within",
]

COST_ASSUMPTION_TEXT = {
    "utilisation": "Share of each machine's capacity used on average",
    "requests_per_day": "Requests per day",
    "peak_to_average": "Busiest hour vs the daily average",
    "latency_target_ms": "Latency limit when picking a batch size for cost (ms per batch, p90)",
    "amortisation_years": "Owned hardware written off over (years)",
    "financing_rate": "Yearly interest on owned hardware (0 = cash)",
    "pue": "Power usage effectiveness, owned (Uptime Institute 2023 average)",
    "cloud_pue": "Power usage effectiveness, cloud (hyperscale data centres)",
    "electricity_usd_per_kwh": "Electricity, $ per kWh (US industrial, EIA 2024-2025)",
    "colocation_usd_per_kw_month": "Colocation, $ per kW per month (CBRE NA H2 2024)",
    "operations_share": "Operations per year, share of purchase price (estimate)",
    "country": "Grid for carbon intensity",
}

CSS = """
:root { --ink:#1F2937; --muted:#6B7280; --line:#E5E7EB; --accent:#2E6BE6; --good:#16794A; }
* { box-sizing: border-box; }
body { font-family: Inter, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
       margin: 0; background: #F9FAFB; line-height: 1.5; }
main { max-width: 1180px; margin: 0 auto; padding: 32px 28px 64px; background: white; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-top: 12px; border-top: 1px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 6px; }
.muted { color: var(--muted); font-size: 13px; }
.question { font-size: 17px; font-style: italic; margin: 12px 0; }
.answer { border-left: 5px solid var(--accent); background: #EEF4FF; padding: 14px 18px;
          font-size: 18px; font-weight: 600; margin: 12px 0; }
.answer.none { border-color: #B45309; background: #FFF7ED; }
.note { background: #FFFBEB; border: 1px solid #FDE68A; padding: 8px 12px; font-size: 14px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left;
         vertical-align: top; }
th { background: #F3F4F6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { margin: 8px 0 20px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
@media (max-width: 900px) { .grid { grid-template-columns: 1fr; } }
footer { margin-top: 40px; font-size: 12px; color: var(--muted); }
"""


def esc(value: Any) -> str:
    """Text for the page: HTML-escaped, credentials in URLs hidden (``lib.access.redact``)."""
    return html.escape(redact("" if value is None else str(value)), quote=True)


def _fmt_cell(value: Any, column: str = "") -> str:
    if value is None or value is pd.NA:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if column.startswith("$"):
            return fmt_usd(value)
        if "(×)" in column:
            return f"{value:.2f}×"
        if "p-value" in column:
            return f"{value:.3g}"
        if "pts" in column:
            return f"{value:+.2f}"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"
    return str(value)


def html_table(df: pd.DataFrame, max_rows: int | None = None) -> str:
    """A DataFrame as an HTML table, every cell escaped, numbers right-aligned."""
    if df is None or df.empty:
        return "<p class='muted'>Nothing to show.</p>"
    rows = df if max_rows is None else df.head(max_rows)
    head = "".join(f"<th>{esc(c)}</th>" for c in rows.columns)
    body = []
    for _, r in rows.iterrows():
        cells = []
        for c in rows.columns:
            v = r[c]
            cls = " class='num'" if isinstance(v, int | float) and not isinstance(v, bool) else ""
            cells.append(f"<td{cls}>{esc(_fmt_cell(v, str(c)))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _kv_table(pairs: list[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in pairs)
    return f"<table>{rows}</table>"


def _setup_pairs(doc: dict) -> list[tuple[str, Any]]:
    spec = doc.get("spec") or {}
    m, d, ms = spec.get("model") or {}, spec.get("dataset") or {}, spec.get("measure") or {}
    variants = spec.get("variants") or [r.get("variant") for r in doc.get("results", [])]
    results = RunDocument.from_dict(doc).results
    n_eval = next((r.n_eval for r in results if r.n_eval), None)
    pairs = [
        ("Run", f"{doc.get('name') or '(unnamed)'} — id {doc.get('run_id')}"),
        ("Status", doc.get("status", "")),
        ("Model", m.get("source", "?")),
        ("Dataset", d.get("source", "?")),
        ("Evaluated on", f"{n_eval} examples" if n_eval else "not recorded"),
        ("Variants", ", ".join(str(v) for v in variants)),
    ]
    if ms:
        pairs.append(
            (
                "Timing",
                f"batch sizes {', '.join(map(str, ms.get('batch_sizes', [])))}; "
                f"sequence length {ms.get('seq_len')}; warm-up {ms.get('warmup')}; "
                f"at least {ms.get('min_repeats')} repeats and {ms.get('min_seconds')} s; "
                f"threads {ms.get('threads') or 'all cores'}; device {ms.get('device')}",
            )
        )
    extra = doc.get("baseline") or {}
    if extra.get("demo"):
        pairs.append(
            ("Demo data", f"recorded on {extra.get('recorded_on')}, {extra.get('recorded_at')}")
        )
    failed = [r for r in results if r.get("status", "ok") != "ok"]
    for r in failed:
        pairs.append((f"Failed: {r.get('variant')}", r.get("error") or "no reason recorded"))
    return pairs


def _environment_pairs(doc: dict) -> list[tuple[str, Any]]:
    env = doc.get("environment") or {}
    if not env:
        return [("Environment", "not recorded")]
    facts = cmp.run_facts(doc)
    pairs = [("Hardware", facts["hardware"]), ("Recorded", env.get("date") or facts["date"])]
    keys = [
        ("cpu_model", "CPU"),
        ("cpu_flags", "CPU features"),
        ("cores", "Cores"),
        ("threads", "Threads"),
        ("device", "Device"),
        ("gpu_name", "GPU"),
        ("gpu_memory_gb", "GPU memory (GB)"),
        ("gpu_driver", "GPU driver"),
        ("cuda", "CUDA"),
        ("os", "OS"),
        ("python", "Python"),
        ("torch", "torch"),
        ("transformers", "transformers"),
        ("onnxruntime", "onnxruntime"),
        ("torchao", "torchao"),
        ("codecarbon", "codecarbon"),
        ("git_commit", "Leanbench commit"),
    ]
    for k, label in keys:
        v = env.get(k)
        if v in (None, "", []):
            continue
        pairs.append((label, ", ".join(map(str, v)) if isinstance(v, list) else v))
    return pairs


def _price_rows(df: pd.DataFrame) -> pd.DataFrame:
    if "option" not in df or not (df["option"] != "").any():
        return pd.DataFrame()
    priced = df[df["option"] != ""]
    cols = {
        "option": "Hardware",
        "option_kind": "Kind",
        "hourly_usd": "$ per hour",
        "price_source": "Price source",
        "price_date": "Price date",
    }
    have = [c for c in cols if c in priced]
    out = priced[have].drop_duplicates(subset=["option"]).rename(columns=cols)
    return out.reset_index(drop=True)


def _figure_html(fig, first: bool) -> str:
    return fig.to_html(
        full_html=False,
        include_plotlyjs=True if first else False,
        config={"displaylogo": False, "responsive": True},
    )


def export_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The comparison as a flat table for CSV: the named columns, then per-batch timings."""
    front = [c for c in EXPORT_COLUMNS if c in df.columns]
    per_batch = [
        c
        for c in df.columns
        if c not in front
        and (c.startswith(("p50_ms_b", "p90_ms_b", "p99_ms_b", "throughput_b", "speedup_vs")))
    ]
    return df[front + per_batch]


def export_csv(df: pd.DataFrame) -> str:
    """The comparison as CSV; a text cell starting with = + - @ gets a leading ' so that no
    spreadsheet runs it as a formula (``lib.access.text``)."""
    return safe_csv(export_frame(df))


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(export_frame(df).to_json(orient="records", default_handler=str))


def export_json(
    run_docs: list[dict],
    df: pd.DataFrame,
    rec: cmp.Recommendation | None = None,
    targets: cmp.Targets | None = None,
    cost_assumptions: dict | None = None,
) -> str:
    """Everything: the run documents as stored, the comparison rows, the recommendation."""
    doc = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "targets": (targets or cmp.Targets()).to_dict(),
        "cost_assumptions": cost_assumptions,
        "recommendation": {"sentence": rec.sentence, "numbers": rec.numbers, "notes": rec.notes}
        if rec
        else None,
        "runs": run_docs,
        "comparison": _records(df),
    }
    return json.dumps(_finite(doc), indent=1, default=str, allow_nan=False)


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinity as null: strict JSON has neither, and one stray
    figure must not stop the whole download."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _time_to_value(run_docs: list[dict], df: pd.DataFrame) -> list[str]:
    """One-off cost and payback; the learning curve and long documents saved for each run's
    model and dataset, where there are any (``lib.results.curve``, ``lib.results.long_docs``)."""
    from lib.cost.payback import payback_text
    from lib.results import curve as rc
    from lib.results import long_docs as rl
    from lib.results.curve_charts import learning_curve_chart
    from lib.results.long_docs_charts import docs_per_second_chart

    parts: list[str] = []
    if "one_off_usd" in df and df["one_off_usd"].notna().any():
        rows = df[(df["variant"] != df["baseline_variant"]) & df["one_off_usd"].notna()]
        table = pd.DataFrame(
            {
                "Run": rows["run_label"],
                "Variant": rows["variant"],
                "Hardware": rows["option"],
                "$ one-off (training, calibration)": rows["one_off_usd"],
                "$ saved per month vs fp32": rows["monthly_saving_usd"],
                "Pays back": [payback_text(m) for m in rows["payback_months"]],
            }
        )
        parts.append("<h2>One-off cost and payback</h2>")
        parts.append(
            "<p class='muted'>One-off: the training and calibration seconds each build recorded, "
            "priced on the machine that built it (lib.cost.payback, from the price catalogue, "
            "with its source and date). Saving: the baseline's monthly bill minus the variant's "
            "on the same hardware at the assumed volume.</p>"
        )
        parts.append(html_table(table))
    seen: set[tuple] = set()
    for doc in run_docs:
        spec = doc.get("spec") or {}
        key = ((spec.get("model") or {}).get("source"), (spec.get("dataset") or {}).get("source"))
        if key in seen:
            continue
        seen.add(key)
        curve, long = rc.curve_for_run(doc), rl.long_docs_for_run(doc)
        if curve is not None:
            parts.append(f"<h2>How many labels are enough ({esc(key[0])} on {esc(key[1])})</h2>")
            parts.append(f"<p>{esc(curve.get('sentence'))}</p>")
            fig = learning_curve_chart(rc.points_frame(curve), curve.get("target"))
            parts.append(f"<div class='chart'>{_figure_html(fig, first=False)}</div>")
            parts.append(html_table(rc.display_frame(curve)))
            for note in curve.get("notes") or []:
                parts.append(f"<p class='note'>{esc(note)}</p>")
        if long is not None:
            parts.append(f"<h2>Long documents ({esc(key[0])} on {esc(key[1])})</h2>")
            parts.append(f"<p>{esc(rl.lengths_sentence(long))}</p>")
            parts.append(
                "<ul>"
                + "".join(f"<li>{esc(x)}</li>" for x in long.get("sentences") or [])
                + "</ul>"
            )
            parts.append(html_table(rl.strategies_frame(long)))
            fig = docs_per_second_chart(rl.by_length_frame(long))
            parts.append(f"<div class='chart'>{_figure_html(fig, first=False)}</div>")
            for note in long.get("notes") or []:
                parts.append(f"<p class='note'>{esc(note)}</p>")
    return parts


def build_report(
    run_docs: list[dict],
    cost_assumptions=None,
    targets: cmp.Targets | None = None,
    options: list[str] | None = None,
    title: str | None = None,
    catalog=None,
) -> str:
    """The whole report as one HTML string (self-contained: opens offline in any browser).

    ``options``: hardware to price on (default ``compare.DEFAULT_OPTIONS``; ``[]`` for no cost).
    ``cost_assumptions``: a ``lib.cost.formulas.CostAssumptions`` (default: its defaults, with the latency
    limit set to the target's p95 limit when one is given)."""
    if not run_docs:
        raise UserError("Pick at least one run for the report.")
    # No credential in a URL reaches the page, charts included (their JSON escapes the text).
    run_docs = [cast(dict, redact_strings(d)) for d in run_docs]
    t = targets or cmp.Targets()
    opts = list(cmp.DEFAULT_OPTIONS) if options is None else list(options)
    a = (
        cmp.assumptions_for(t, cost_assumptions)
        if cost_assumptions is None or t.max_p95_ms is not None
        else cost_assumptions
    )
    df = cmp.compare_frame(run_docs, t.batch_size, opts, catalog, a)
    df = cmp.add_load_latency(df, run_docs, t.max_p95_ms)  # p99 under load where load-tested
    if opts:  # one-off build cost and payback of each priced candidate (issue 18)
        df = add_payback(df, run_docs, catalog, a)
    rec = cmp.recommend(df, t)
    ok = cmp.ok_candidates(df)
    latency_note = cmp.latency_note(ok) if t.max_p95_ms is not None and not ok.empty else ""
    facts = [cmp.run_facts(d) for d in run_docs]
    models = sorted({f["model"] for f in facts})
    datasets = sorted({f["dataset"] for f in facts})
    heading = title or f"{', '.join(models)} on {', '.join(datasets)}: which variant to ship"
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    parts: list[str] = []
    parts.append(f"<h1>{esc(heading)}</h1>")
    parts.append(
        f"<p class='muted'>Leanbench report, generated {esc(now)} from "
        f"{len(run_docs)} run(s): " + ", ".join(esc(f["run_label"]) for f in facts) + "</p>"
    )
    parts.append(f"<p class='question'>{esc(QUESTION)}</p>")
    parts.append(f"<p>Your target: <b>{esc(t.describe(ok))}</b>.</p>")

    # -- the answer
    parts.append("<h2>Recommendation</h2>")
    parts.append(f"<div class='answer{'' if rec.met else ' none'}'>{esc(rec.sentence)}</div>")
    if latency_note:
        parts.append(f"<p class='muted'>{esc(latency_note)}</p>")
    for n in rec.notes:
        parts.append(f"<p class='note'>{esc(n)}</p>")
    parts.append("<h3>The numbers it rests on</h3>")
    parts.append(html_table(cmp.numbers_table(rec)))

    # -- charts
    parts.append("<h2>Charts</h2>")
    parts.append(
        "<p class='muted'>Interactive: hover a point for its numbers, click a legend entry to "
        "hide it. Bold points are on the Pareto frontier; open ones are beaten on both axes by "
        "a frontier point.</p>"
    )
    figs = [cmp.accuracy_latency_chart(df)]
    if opts:
        figs.append(cmp.accuracy_cost_chart(df))
    figs += [cmp.grouped_bars(df, m) for m in cmp.bar_metrics(df)]
    for i, fig in enumerate(figs):
        parts.append(f"<div class='chart'>{_figure_html(fig, first=i == 0)}</div>")

    # -- tables
    parts.append("<h2>Against each run's fp32 baseline</h2>")
    parts.append(
        "<p class='muted'>Δ accuracy in percentage points; significant = exact McNemar test on "
        "the same examples, p &lt; 0.05. Speed-up = baseline p50 / variant p50 at the same "
        "batch size; smaller and cheaper = baseline / variant (above 1× is better).</p>"
    )
    parts.append(html_table(cmp.deltas(df)))
    parts.append("<h3>Every variant as measured</h3>")
    measured = cmp.measured_points(df)
    cols = {
        "run_label": "Run",
        "variant": "Variant",
        "runtime": "Runtime",
        "precision": "Precision",
        "accuracy": "Accuracy",
        "macro_f1": "Macro-F1",
        "p50_ms": "p50 (ms)",
        "p95_ms": "p95 (ms)",
        "load_p99_ms": "p99 under load (ms)",
        "load_goodput_qps": "Goodput under load (req/s)",
        "load_slo_ms": "Load-test SLO (ms)",
        "throughput_per_s": "Throughput (items/s)",
        "size_mb": "Size (MB)",
        "peak_memory_mb": "Peak memory (MB)",
        "energy_j_per_1k": "Energy (J per 1k)",
    }
    if not measured.empty:
        table = measured[[c for c in cols if c in measured]].rename(columns=cols)
        table = table[[c for c in table.columns if table[c].notna().any()]]
        parts.append(html_table(table))
    failed = df[df["status"] != "ok"] if "status" in df else df.iloc[0:0]
    if not failed.empty:
        parts.append("<h3>Variants that failed</h3>")
        parts.append(
            html_table(
                failed[["run_label", "variant", "error"]].rename(
                    columns={"run_label": "Run", "variant": "Variant", "error": "Why"}
                )
            )
        )

    # -- setup and environment
    parts += _time_to_value(run_docs, df)

    parts.append("<h2>Setup</h2>")
    for doc in run_docs:
        parts.append(f"<h3>{esc(cmp.run_facts(doc)['run_label'])}</h3>")
        parts.append(_kv_table(_setup_pairs(doc)))
    parts.append("<h2>Environment</h2>")
    for doc in run_docs:
        parts.append(f"<h3>{esc(cmp.run_facts(doc)['run_label'])}</h3>")
        parts.append(_kv_table(_environment_pairs(doc)))

    # -- assumptions
    parts.append("<h2>Assumptions</h2>")
    basis = sorted(set(cmp.measured_points(df)["p95_basis"])) if not measured.empty else []
    latency = (
        "p95 per request at batch "
        f"{t.batch_size}, as measured on each run's own hardware. " + "; ".join(basis)
    )
    tested = measured[measured["load_tested"].astype(bool)] if not measured.empty else measured
    if not tested.empty:
        latency += (
            ". Load-tested variants ("
            + ", ".join(dict.fromkeys(str(v) for v in tested["variant"]))
            + "): request latency under load, measured with MLPerf LoadGen (Server scenario: "
            "requests arriving at a set rate, answered by a dynamic batcher); goodput is the most "
            "load whose request latency stays within the load test's SLO."
        )
    if latency_note:
        latency += " " + latency_note
    parts.append(
        _kv_table(
            [
                ("Latency", latency),
                (
                    "Accuracy",
                    "fraction of evaluation examples right; 95% Wilson interval; change vs the "
                    "run's fp32 baseline tested with the exact McNemar test (p < 0.05 = "
                    "significant).",
                ),
                (
                    "Cost",
                    "$ per 1M = hourly price / (throughput per second x 3600 x utilisation) x "
                    "1e6, at the largest batch whose p90 meets the latency limit. Measured where "
                    "a run measured that hardware; otherwise projected from the run's "
                    "measurement (labelled 'projected').",
                ),
            ]
        )
    )
    if opts:
        parts.append("<h3>Cost assumptions</h3>")
        ad = a.to_dict()
        parts.append(_kv_table([(COST_ASSUMPTION_TEXT.get(k, k), v) for k, v in ad.items()]))
        parts.append("<h3>Prices used, with their sources and dates</h3>")
        parts.append(html_table(_price_rows(df)))
        notes = sorted({n for n in df.get("cost_note", pd.Series(dtype=str)).dropna() if n})
        if notes:
            parts.append("<h3>Could not be costed</h3>")
            parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")

    parts.append(
        "<footer>Made with Leanbench. Numbers depend on the hardware and software that "
        "measured them (see Environment); projected costs are estimates, not measurements."
        "</footer>"
    )
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(heading)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
