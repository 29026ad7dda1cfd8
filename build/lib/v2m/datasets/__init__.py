"""Adapters for the survey's datasets: list their items and check a local copy.

v2m never downloads a dataset. An adapter reads the published layout of a dataset under a
root folder the user gives and yields :class:`Item` records (id, split, the media paths that
are present, the source URL or YouTube id when the media must be obtained by the user, the
span inside the source, labels in the dataset's own vocabulary, annotation and feature
files); :func:`check` counts what is present and what is missing.

    >>> from v2m import datasets
    >>> datasets.names()[:4]
    ['aistpp', 'cdcd-aist', 'cdcd-aist-s6', 'd2mgan-aist']
    >>> for item in datasets.items("symmv", "/data/SymMV", split="all"): ...
    >>> report = datasets.check("muvi-sync", "/data/Video2Music/dataset", split="test")

Adding a dataset: subclass :class:`Adapter` and decorate it with :func:`register`
(``v2m.datasets.adapters`` and ``v2m.datasets.segments`` hold the built-in ones).
"""

from __future__ import annotations

from . import adapters as _adapters  # noqa: F401  (registers the built-in adapters)
from . import segments as _segments  # noqa: F401
from ._base import Adapter, Coverage, Item, check, get, items, names, register

__all__ = ["Adapter", "Coverage", "Item", "check", "get", "items", "names", "register"]
