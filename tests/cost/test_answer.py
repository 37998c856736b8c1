"""The Cost page's answer and explanations (lib.cost.answer, lib.cost.explain) on a real cost
table: the variant shown first, the sentence, the pricing view, the table for people and each
row's story."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lib.cost import answer as ans
from lib.cost import explain
from lib.cost.catalog import load_catalog
from lib.cost.formulas import CostAssumptions
from lib.cost.table import cost_table
from tests.helpers.runs import cost_result as result

ENV = {"device": "cpu", "cpu_model": "Intel(R) Xeon(R) Platinum 8488C", "threads": 2}
OPTIONS = list(ans.DEFAULT_OPTIONS)  # g4dn.xlarge, c7i.2xlarge, g6.xlarge, L4 (owned)


def doc(int8_accuracy: float = 0.855) -> dict:
    return {
        "run_id": "r1",
        "environment": ENV,
        "results": [
            result("fp32", "fp32", 0.86, 40.0, 80.0),
            result("int8", "int8", int8_accuracy, 70.0, 160.0),
        ],
    }


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def table_for(catalog, options=OPTIONS, int8_accuracy=0.855, a=None) -> pd.DataFrame:
    return cost_table([doc(int8_accuracy)], ans.only_options(catalog, options), a)


@pytest.fixture(scope="module")
def table(catalog) -> pd.DataFrame:
    return table_for(catalog)


# ------------------------------------------------------------------ what to cost
def test_only_options_keeps_the_chosen_instances_and_the_server_of_a_card(catalog):
    cut = ans.only_options(catalog, ["c7i.2xlarge", "L4 (owned)"])
    assert list(cut.cloud["instance"]) == ["c7i.2xlarge"]
    names = set(cut.hardware["name"])
    assert "L4" in names
    host = catalog.hardware.set_index("name").loc["L4", "host"]
    assert host and host in names and len(names) == 2
    assert cut.peaks is catalog.peaks


def test_option_names_and_labels(catalog):
    names = ans.option_names(catalog)
    assert set(OPTIONS) <= set(names)
    labels = ans.describe_options(catalog)
    assert labels["g4dn.xlarge"].startswith("g4dn.xlarge · aws · T4 · $") and labels[
        "g4dn.xlarge"
    ].endswith("/h")
    assert "vCPU" in labels["c7i.2xlarge"]
    assert labels["L4 (owned)"].startswith("L4 (owned) · buy for $")


def test_default_options_keeps_an_earlier_choice_else_the_defaults():
    names = ["a", "g4dn.xlarge", "L4 (owned)", "b"]
    assert ans.default_options(names) == ["g4dn.xlarge", "L4 (owned)"]
    assert ans.default_options(["x", "y", "z", "w"]) == ["x", "y", "z"]
    assert ans.default_options(names, ["b", "gone"]) == ["b"]
    assert ans.default_options(names, []) == []


def test_runs_in_order_puts_finished_runs_first():
    runs = [{"id": "a", "status": "running"}, {"id": "b", "status": "done"}]
    runs += [{"id": "c", "status": "failed"}, {"id": "d", "status": "done"}]
    assert [r["id"] for r in ans.runs_in_order(runs)] == ["b", "d", "a", "c"]


def test_elsewhere_picks_the_newest_run_of_the_same_model_on_each_other_machine():
    def run(i, env, model="m", status="done"):
        spec = {"model": {"source": model}}
        return {"id": i, "status": status, "environment": env, "spec": spec}

    gpu = {"device": "cuda", "gpu_name": "NVIDIA L4"}
    this = run("this", ENV)
    others = [
        run("gpu-new", gpu),
        run("gpu-old", gpu),
        run("same-machine", ENV),
        run("other-model", {"device": "cuda", "gpu_name": "T4"}, model="x"),
        run("failed", {"device": "cuda", "gpu_name": "H100"}, status="failed"),
    ]
    assert ans.machine(this) == "Intel(R) Xeon(R) Platinum 8488C x2"
    assert ans.machine(others[0]) == "NVIDIA L4"
    assert ans.elsewhere(this, others) == ["gpu-new"]


def test_has_results_needs_one_measured_variant():
    assert ans.has_results(doc())
    assert not ans.has_results({"results": [{"variant": "x", "status": "failed"}]})
    assert not ans.has_results({"results": []})


def test_split_owned_and_variants(table):
    owned, clouds = ans.split_owned(table, OPTIONS)
    assert owned == ["L4 (owned)"]
    assert clouds == ["g4dn.xlarge", "c7i.2xlarge", "g6.xlarge"]
    assert ans.variants(table) == ["fp32", "int8"]


def test_chart_months_covers_at_least_five_years():
    assert ans.chart_months(4) == 60
    assert ans.chart_months(6.1) == 74


# ------------------------------------------------------------------ the answer
def test_default_variant_is_the_cheapest_within_a_point_of_the_best(catalog, table):
    assert ans.default_variant(table, "on_demand") == "int8"  # 0.5 points down, half the cost
    worse = table_for(catalog, int8_accuracy=0.80)
    assert ans.default_variant(worse, "on_demand") == "fp32"


def test_answer_names_every_chosen_option_and_when_buying_pays_back(table):
    text = ans.answer(table, "int8", "on_demand", OPTIONS, 1_000_000)
    assert text.startswith("**int8** costs $")
    assert " per 1M requests on g4dn.xlarge (projected)" in text
    assert "c7i.2xlarge (projected)" in text and "g6.xlarge (projected)" in text
    assert "; an L4 bought for $" in text and "(with its share of a server)" in text
    assert "pays back in" in text and "months against" in text
    assert text.endswith(" — on-demand prices, 1,000,000 requests/day.")
    usd = table[(table["variant"] == "int8") & (table["option"] == "g4dn.xlarge")]
    assert ans.usd(usd["usd_per_million"].iloc[0]) in text


def test_answer_follows_the_pricing(table):
    text = ans.answer(table, "fp32", "commit_3y", OPTIONS, 1_000_000)
    assert text.startswith("**fp32** costs ") and "3-year prices" in text
    row = table[(table["variant"] == "fp32") & (table["option"] == "g4dn.xlarge")].iloc[0]
    assert ans.usd(row["usd_per_million_commit_3y"]) in text


def test_answer_says_never_and_where_it_does_pay_back(catalog):
    table = table_for(catalog, [*OPTIONS, "c7g.xlarge"])
    text = ans.answer(table, "fp32", "on_demand", [*OPTIONS, "c7g.xlarge"], 1_000_000)
    assert "never pays back against c7g.xlarge, the cheapest to rent" in text
    assert "(it pays back in " in text


def test_answer_with_only_hardware_to_buy(catalog):
    table = table_for(catalog, ["L4 (owned)"])
    text = ans.answer(table, "int8", "on_demand", ["L4 (owned)"], 1000)
    assert text.startswith("**int8**: an L4 bought for $") and "costs $" in text
    assert "pays back" not in text


def test_answer_when_nothing_could_be_costed(table):
    empty = table.assign(usd_per_million=float("nan"))
    text = ans.answer(empty, "int8", "on_demand", OPTIONS, 1000)
    assert text == "None of the chosen hardware could cost **int8** at on-demand prices."


def test_priced_swaps_cloud_prices_and_keeps_owned_rows(table):
    assert ans.priced(table, "on_demand") is table
    spot = ans.priced(table, "spot")
    cloud = table["option_kind"] == "cloud"
    for col in ("hourly_usd", "usd_per_million", "monthly_usd"):
        pd.testing.assert_series_equal(
            spot.loc[cloud, col], table.loc[cloud, f"{col}_spot"], check_names=False
        )
        pd.testing.assert_series_equal(spot.loc[~cloud, col], table.loc[~cloud, col])
    assert not table.loc[cloud, "usd_per_million"].equals(spot.loc[cloud, "usd_per_million"])


def test_pricing_text():
    assert [ans.pricing_text(p) for p in ("on_demand", "commit_1y", "commit_3y", "spot")] == [
        "on-demand",
        "1-year",
        "3-year",
        "spot",
    ]


# ------------------------------------------------------------------ explanations
def test_display_table_has_units_and_each_rows_inputs(table):
    shown = explain.display_table(table, "commit_1y")
    assert len(shown) == len(table) == 8
    assert list(shown["Hardware"]) == list(table["option"])
    pd.testing.assert_series_equal(
        shown["$ per 1M"], table["usd_per_million_commit_1y"], check_names=False
    )
    assert (shown["Accuracy (%)"] == table["accuracy"] * 100).all()
    owned = shown[shown["Hardware"] == "L4 (owned)"]
    assert owned["Break-even"].str.contains(r"^\d+\.\d months vs ").all()
    assert owned["$ per 1M: on-demand / 1y / 3y / spot"].eq("").all()
    assert owned["Purchase $"].gt(0).all()
    cloud = shown[shown["Hardware"] == "g4dn.xlarge"]
    assert cloud["$ per 1M: on-demand / 1y / 3y / spot"].str.count(" / ").eq(3).all()
    assert cloud["Purchase $"].isna().all() and cloud["Break-even"].eq("").all()
    assert shown["Throughput assumptions"].str.len().gt(0).all()


def test_row_story_fills_the_formulas_in(table):
    a = CostAssumptions()
    cloud = table[(table["variant"] == "int8") & (table["option"] == "g4dn.xlarge")].iloc[0]
    story = explain.row_story(cloud, "on_demand", a)
    assert story.startswith("**Throughput** ")
    assert f"**Price** {explain.usd_h(cloud['hourly_usd'])}/h on-demand (1-year $" in story
    assert f"= **{ans.usd(cloud['usd_per_million'])}** (projected)." in story
    assert f"= **{int(cloud['instances_needed'])}**" in story
    owned = table[(table["variant"] == "int8") & (table["option"] == "L4 (owned)")].iloc[0]
    stories = dict(explain.row_stories(table, "int8", "on_demand", a))
    title = next(t for t in stories if t.startswith("L4 (owned): $"))
    assert title.endswith(" per 1M (projected)")
    assert "**Owned $/h**" in stories[title] and "straight line" in stories[title]
    assert f"**Break-even** vs {owned['breakeven_vs']}" in stories[title]
    assert len(stories) == 4


def test_row_story_of_a_row_not_costed(table):
    row = table.iloc[0].copy()
    row["throughput_source"], row["note"] = "unavailable", "no peaks for it"
    assert explain.row_story(row, "on_demand", CostAssumptions()) == "Not costed: no peaks for it"
    cloud = table[table["option"] == "g4dn.xlarge"].iloc[0].copy()
    cloud["hourly_usd_spot"] = float("nan")
    assert explain.row_story(cloud, "spot", CostAssumptions()).endswith(
        "No spot price for this instance."
    )


def test_breakeven_grid_against_every_cloud_option_and_pricing(table):
    grid, caption = explain.breakeven_grid(table, "int8", "L4 (owned)")
    assert grid.index.name == "Against renting"
    assert set(grid.index) == {"g4dn.xlarge", "c7i.2xlarge", "g6.xlarge"}
    assert list(grid.columns)[0] == "On-demand" and "3-year commitment" in list(grid.columns)
    assert grid.map(lambda v: v == "never" or v == "–" or v.endswith(" months")).all().all()
    assert caption.startswith("Break-even months = purchase $")
    only_owned = table[table["option_kind"] == "owned"]
    empty, none = explain.breakeven_grid(only_owned, "int8", "L4 (owned)")
    assert empty.empty and none == ""


def test_captions_and_hourly_format(catalog):
    text = explain.catalogue_caption(catalog, edited=False)
    assert text.startswith(f"Prices: {len(catalog.cloud)} cloud instances and ")
    assert "(uploaded and/or edited" not in text
    assert "(uploaded and/or edited in this session)" in explain.catalogue_caption(catalog, True)
    assert "3-year prices" in explain.cumulative_caption("commit_3y")
    a = CostAssumptions(utilisation=0.3)
    assert "utilisation 0.3, 1,000,000 requests/day" in explain.sensitivity_caption("int8", a)
    assert explain.usd_h(0.52611) == "$0.5261" and explain.usd_h(math.nan) == "–"
    assert explain.usd_h(None) == "–"


def test_download_csv_leaves_out_the_projection_details(table):
    csv = explain.download_csv(table)
    header = csv.splitlines()[0].split(",")
    assert "projection" not in header and "usd_per_million" in header
