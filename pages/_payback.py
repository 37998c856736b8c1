"""The Cost page's one-off cost and payback: what each variant cost to train or calibrate once,
priced on the machine that built it (or a cloud instance the user picks), the monthly saving
against the baseline at the user's volume and when it pays back. Widgets only; the numbers are
``lib.cost.payback``'s.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.errors import UserError
from lib.format import MISSING, fmt_usd
from lib.schema import BASELINE

BUILT_HERE = "the machine that built it"

COLUMNS = {
    "variant": "Variant",
    "option": "Hardware",
    "one_off_parts": "Trained or calibrated",
    "one_off_usd": "One-off $",
    "monthly_saving_usd": "Saves per month $",
    "payback": "Pays back",
    "built_on": "Built on",
}


def payback_section(
    box, table: pd.DataFrame, docs: list[dict], variant: str, pricing: str, catalog
):
    """One sentence for ``variant`` under the answer (where it trained or calibrated), and the
    whole table in an expander."""
    from lib.cost import payback as pb

    try:
        pay = pb.payback_frame(docs, table, _rate(docs, catalog), catalog, pricing)
    except UserError as exc:
        box.caption(f"One-off cost not priced: {exc}")
        return
    if pay.empty:
        return
    mine = pay[(pay["variant"] == variant) & pay["monthly_usd"].notna()]
    if not mine.empty and mine["one_off_usd"].max() > 0:
        best = mine.loc[mine["monthly_usd"].idxmin()]
        box.markdown(pb.payback_sentence(best))
    with box.expander("One-off cost and payback of every variant", icon=":material/savings:"):
        options = [BUILT_HERE, *catalog.cloud["instance"].tolist()]
        st.selectbox(
            "Price the build time on",
            options,
            key="cost_payback_on",
            help="The training and calibration seconds each variant's build recorded, at the "
            "hourly rate of the machine that built it (priced from the catalogue) or of a "
            "cloud instance you pick.",
        )
        shown = pay[pay["variant"] != BASELINE]
        st.dataframe(
            shown[list(COLUMNS)].rename(columns=COLUMNS),
            hide_index=True,
            width="stretch",
            placeholder=MISSING,
            column_config={
                "One-off $": st.column_config.NumberColumn(format="$%.4f"),
                "Saves per month $": st.column_config.NumberColumn(format="dollar"),
            },
        )
        first = pay.iloc[0]
        base = pay[pay["variant"] == BASELINE]
        adapt = (
            f" Adapting the baseline cost {fmt_usd(base['one_off_usd'].iloc[0])} once; every "
            "variant starts from it."
            if not base.empty and base["one_off_usd"].iloc[0] > 0
            else ""
        )
        st.caption(
            f"One-off: seconds / 3600 x {first['rate_label']} "
            f"({first['rate_source']}, {first['rate_date']}"
            f"{'; estimate: ' + first['rate_estimate'] if first['rate_estimate'] else ''}). "
            "Saving: the baseline's monthly bill minus the variant's on the same hardware at "
            "your volume (whole instances for the busiest hour); pays back = one-off / saving, "
            "never where it saves nothing or costs more." + adapt
        )


def _rate(docs: list[dict], catalog):
    from lib.cost.payback import machine_rate

    picked = st.session_state.get("cost_payback_on")
    if not picked or picked == BUILT_HERE:
        return None
    return machine_rate((docs[0] or {}).get("environment") or {}, catalog, picked)
