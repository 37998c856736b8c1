"""Serving a variant under load: a dynamic batcher over raw texts, driven by MLPerf's LoadGen,
with goodput under an SLO measured by search and projected by simulating the same batcher.

``load_test(predictor, tokenizer, texts, spec)`` returns the ``load_test`` dict of a result.

Import the module you need (``lib.serving.variant.load_test``): this package imports nothing, so
importing one module does not pay for numpy, LoadGen or simpy. What a load test asks for is
``lib.spec.LoadTestSpec``, part of the run spec.
"""
