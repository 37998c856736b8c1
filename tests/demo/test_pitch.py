"""The demo's story: the run that matches the visitor's machine, one answer, the bill before and
after, and the hardware difference as a message. Uses the bundled demo runs (real recordings)."""

from __future__ import annotations

import copy
import json

import pytest

from lib.compare import compare_frame
from lib.demo import pitch as pt
from lib.demo import story as demo
from lib.paths import REPO_DATA


@pytest.fixture(scope="module")
def bundled() -> list[dict]:
    docs = demo.demo_docs(REPO_DATA / "demo")
    assert {pt.cpu_kind(d["environment"]) for d in docs} >= {"avx2", "bf16"}
    return docs


def _kind(docs, kind):
    return [d for d in docs if pt.cpu_kind(d["environment"]) == kind]


def test_cpu_kind_from_recorded_flags():
    assert pt.cpu_kind({"cpu_flags": ["AVX2", "AVX512F", "AMX-BF16"]}) == "bf16"
    assert pt.cpu_kind({"cpu_flags": ["AVX2", "AVX512-VNNI"]}) == "vnni"
    assert pt.cpu_kind({"cpu_flags": ["AVX2"]}) == "avx2"
    assert pt.cpu_kind({"cpu_flags": []}) == "unknown"
    assert pt.cpu_kind({"device": "cuda", "cpu_flags": ["AVX2"]}) == "gpu"


@pytest.mark.parametrize("here", ["avx2", "bf16"])
def test_the_story_is_told_from_a_run_on_the_visitors_kind_of_cpu(bundled, here):
    runs = pt.story_runs(bundled, here)
    assert runs is not None and runs.matched and runs.kind == here
    assert "a CPU like this one" in runs.note
    # among that kind's runs, the one with the most finished variants
    same = _kind(bundled, here)
    assert pt._ok_count(runs.primary) == max(pt._ok_count(d) for d in same)


def test_a_machine_nobody_recorded_on_gets_the_nearest_and_says_so(bundled):
    runs = pt.story_runs(bundled, "vnni")
    assert runs is not None and not runs.matched and runs.kind == "bf16"
    assert "No demo run was recorded on" in runs.note


def test_pitch_picks_a_faster_variant_within_a_point_and_states_the_bill(bundled):
    for doc in (pt.story_runs(bundled, k).primary for k in ("avx2", "bf16")):
        p = pt.pitch(doc, 20_000_000)
        assert p.variant and p.variant != "fp32"
        assert p.delta_pts is not None and p.delta_pts >= -1.0
        assert p.speedup is not None and p.speedup > 1.05
        assert p.saves and p.monthly_after < p.monthly_before
        assert p.price_source and p.price_date  # every cost figure carries its source and date
        assert f"instead of {pt.dollars(p.monthly_before)} a month" in p.headline
        assert "20M requests a day on c7i.2xlarge" in pt.money_sentence(p)


def test_pitch_never_names_a_slower_variant_the_answer(bundled):
    # the AVX2 default run: half keeps the accuracy but is several times slower, int8 loses it
    default = next(d for d in _kind(bundled, "avx2") if pt._ok_count(d) == 3)
    p = pt.pitch(default, 20_000_000)
    assert p.variant is None
    assert "the original is the answer" in p.headline


def test_one_machine_either_way_is_said_plainly(bundled):
    p = pt.pitch(pt.story_runs(bundled, "bf16").primary, 1_000_000)
    assert not p.saves
    assert "instead of" not in p.headline
    assert "serves fp32 as well" in pt.money_sentence(p)


def test_the_bill_of_one_run_is_never_added_to_another(bundled):
    """The money is computed from one run: two copies of the same run give the same bill."""
    doc = pt.story_runs(bundled, "avx2").primary
    twin = copy.deepcopy(doc)
    twin["run_id"] = "twin"
    once = pt.pitch(doc, 20_000_000)
    again = pt.pitch(pt.story_runs([doc, twin], "avx2").primary, 20_000_000)
    assert again.monthly_before == once.monthly_before
    assert again.monthly_after == once.monthly_after


def test_half_on_two_kinds_of_cpu_is_a_message_not_a_contradiction(bundled):
    text = pt.hardware_contrast(bundled)
    assert text is not None
    assert "AVX2-only" in text and "slower than fp32" in text
    assert "bf16" in text and "faster than fp32" in text
    assert text.endswith("measure on your hardware.")
    assert pt.hardware_contrast(_kind(bundled, "bf16")) is None  # one kind: nothing to contrast


@pytest.mark.parametrize("batch", [1, 32])
def test_the_tradeoff_sentence_speaks_of_the_charts_batch_and_a_frontier_point(bundled, batch):
    from lib.compare import pareto_frontier

    doc = pt.story_runs(bundled, "avx2").primary
    df = compare_frame([doc], batch)
    sentence = pt.tradeoff_sentence(df)
    assert sentence.startswith(f"At batch {batch},")
    pts = df[df["status"] == "ok"].drop_duplicates(["run_id", "variant"])
    front = pts[pareto_frontier(pts, "p95_ms", "accuracy")]
    named = sentence.split(", ")[1].split(" answers")[0]
    assert named in set(front["variant"])


def test_fastest_and_batch_sizes(bundled):
    doc = pt.story_runs(bundled, "bf16").primary
    assert pt.batch_sizes(doc) == [1, 32]
    name, ms = pt.fastest(doc)
    assert name.startswith("distill:3") and ms > 0
    assert json.dumps(pt.pitch(doc).target) == '"accuracy within 1 point of fp32"'


def test_monthly_bills_and_the_chart_show_one_bar_per_version_and_machine(bundled):
    from lib.demo.charts import monthly_bill_chart

    doc = pt.story_runs(bundled, "bf16").primary
    p = pt.pitch(doc, 20_000_000)
    bills = pt.monthly_bills(doc, 20_000_000, ("c7i.2xlarge", "L4 (owned)"))
    assert not bills.duplicated(["variant", "option"]).any()
    c7i = bills[(bills["option"] == "c7i.2xlarge")].set_index("variant")["monthly_usd"]
    assert c7i["fp32"] == p.monthly_before and c7i[p.variant] == p.monthly_after
    fig = monthly_bill_chart(bills, p.variant, "20M")
    names = {t.name.removesuffix(" (projected)") for t in fig.data}
    assert names == {"c7i.2xlarge", "L4 (owned)"}
    for trace in fig.data:  # each bar is one run's bill, never a sum
        option = trace.name.removesuffix(" (projected)")
        expected = bills[bills["option"] == option]["monthly_usd"].tolist()
        assert list(trace.y) == expected
    assert any("(ship this)" in str(x) for x in fig.data[0].x)
    # the lowest bill of all is named when it is not the pick's (an owned GPU), ties to fp32
    text = pt.cheapest_sentence(bills, p)
    assert text is not None and text.startswith("The lowest bill of all") and "fp32 on L4" in text


def test_the_money_screen_says_what_the_pick_cost_once_and_when_it_pays_back(bundled):
    doc = pt.story_runs(bundled, "bf16").primary
    p = pt.pitch(doc, 20_000_000)
    sentence, detail = pt.payback_line(doc, p)
    assert sentence.startswith(f"{p.variant} cost $")
    saving = pt.fmt_usd(p.monthly_before - p.monthly_after)
    assert f"to train once and saves {saving} a month on {p.option}: pays back in" in sentence
    # priced on the machine that trained it, with the price's source and date
    assert detail.startswith("One-off: distillation") and "skypilot-catalog" in detail
    assert pt.payback_line(doc, pt.Pitch(target="x")) is None  # no pick, no sentence
