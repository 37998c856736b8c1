"""Money as people read it, including amounts below zero (a saving that is a loss)."""

from lib.format import MISSING, fmt_usd


def test_fmt_usd_signs_negative_amounts():
    assert fmt_usd(-521.0) == "-$521.00"
    assert fmt_usd(-0.0123) == "-$0.012"
    assert fmt_usd(2606.1) == "$2,606"
    assert fmt_usd(None) == MISSING
