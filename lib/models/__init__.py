"""Models: loading (``load``), resizing layers (``surgery``), saving and loading resized models
(``checkpoint``) and the disk cache of built variants (``cache``).

Dependencies run one way: ``load`` -> ``checkpoint`` -> ``surgery``; ``cache`` -> ``checkpoint``;
``facts`` (what a model is, for the pages) -> ``load``.
"""
