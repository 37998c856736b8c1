"""Variant chains as typed on the Techniques page or ``--variants``: any text, and chains built
from the real step names, parameters and runtimes. Each parses or gives a UserError."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lib.runtimes.configs import RUNTIMES
from lib.techniques.configs import TECHNIQUES
from lib.techniques.grammar import check_against_model, parse_variant
from tests.fuzz.common import FUZZ, loads_or_user_error

params = (
    st.integers(min_value=-5, max_value=150).map(str)
    | st.text(alphabet="0123456789:/=-+.@ abcdefghijklmnopqrstuvwxyz_", max_size=14)
    | st.sampled_from(["static", "static:300", "dynamic", "keep-ends", "/keep-ends", "50", "3"])
)
steps = st.tuples(st.sampled_from(sorted(TECHNIQUES)), st.none() | params).map(
    lambda s: s[0] if s[1] is None else f"{s[0]}:{s[1]}"
)
chains = st.tuples(
    st.lists(steps, min_size=1, max_size=3).map("+".join),
    st.none() | st.sampled_from([*sorted(RUNTIMES), "gpu", ""]),
).map(lambda c: c[0] if c[1] is None else f"{c[0]}@{c[1]}")


@FUZZ
@given(st.text(max_size=40))
def test_any_text_is_a_variant_or_a_user_error(text):
    loads_or_user_error(parse_variant, text)


@FUZZ
@given(chains)
def test_chains_of_real_steps(text):
    variant = loads_or_user_error(parse_variant, text)
    if variant is not None:
        assert parse_variant(variant.text) == variant  # its own text parses the same


class _Config:
    """The parts of a transformers config the model checks read (a 6-layer BERT)."""

    model_type = "bert"
    num_hidden_layers = 6
    num_attention_heads = 12
    hidden_size = 384
    intermediate_size = 1536
    architectures = ["BertModel"]


@FUZZ
@given(chains)
def test_chains_checked_against_a_model(text):
    variant = loads_or_user_error(parse_variant, text)
    if variant is not None:
        loads_or_user_error(check_against_model, variant, _Config())
