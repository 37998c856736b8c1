"""Leanbench: measure what making a model smaller or faster costs and buys.

Everything here is UI-free; the Streamlit pages and the CLI (``python -m lib``) call into it.
"""
