"""Serving a variant under load: a dynamic batcher over raw texts, driven by MLPerf's LoadGen,
with goodput under an SLO measured by search and projected by simulating the same batcher.

``load_test(predictor, tokenizer, texts, spec)`` returns the ``load_test`` dict of a result.

Import the module you need (``lib.serving.variant.load_test``, ``lib.serving.settings``): this
package imports nothing, so a run spec can read ``lib.serving.settings`` without paying for
numpy, LoadGen or simpy.
"""
