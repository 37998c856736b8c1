"""Models: loading (``load``), the architecture adapter of each model family (``families``),
resizing layers (``surgery``), saving and loading resized models (``checkpoint``) and the disk
cache of built variants (``cache``).

Dependencies run one way: ``load`` -> ``checkpoint`` -> ``surgery`` -> ``families``;
``cache`` -> ``checkpoint``; ``facts`` (what a model is, for the pages) -> ``load``.
"""
