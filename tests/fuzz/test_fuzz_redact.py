"""The redaction every message goes through: it never raises, and a store URL's password never
survives it, wherever in a message the URL sits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lib.access.redact import redact
from tests.fuzz.common import FUZZ

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=10)
secrets = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc"), blacklist_characters="@/"),
    min_size=6,
    max_size=16,
)


@FUZZ
@given(st.text(max_size=200))
def test_any_text(text):
    assert isinstance(redact(text), str)


@FUZZ
@given(
    st.sampled_from(["postgresql", "postgresql+psycopg2", "mysql", "https", "redis"]),
    words,
    secrets,
    words,
    st.text(max_size=20),
    st.text(max_size=20),
)
def test_a_password_in_a_url_never_survives(scheme, user, secret, host, before, after):
    text = f"{before} {scheme}://{user}:{secret}@{host}:5432/db {after}"
    shown = redact(text)
    assert f":{secret}@" not in shown and f"{user}:***@{host}" in shown
