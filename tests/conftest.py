"""What many test files share: each zoo network analysed once per test session.

A zoo network's summary (and its dataflow trace, for the drawings) at its default input is a
pure function of its name: on the meta device, with no weights. A dozen files read them, so
each is made the first time a test asks for it and handed to every later test as it is. The
records are shared: a test reads them and never changes them (one that needs a variant makes
it with ``dataclasses.replace``); the session ends with a check that none was changed.

Tests that need weights (a real forward pass, fvcore, the gradient measurement) build their
own model; the sweeps of those over every network are marked ``slow``.
"""

from __future__ import annotations

import functools
import json
import os
from typing import TYPE_CHECKING, Callable, Iterator

import pytest

# pyproject's addopts run the suite on pytest-xdist's workers, one per core (at most four). Each
# worker then gets one thread for torch (before torch is imported, so its thread pools start
# that size), or two workers on two cores would run four threads and both go slower.
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.setdefault("OMP_NUM_THREADS", "1")

if TYPE_CHECKING:  # the records' modules import torch; the fixtures import them when first used
    from archscope.analysis.records import Summary
    from archscope.draw import Dataflow

_AS_MADE: list[tuple[Summary, str]] = []  # each shared summary and its JSON when it was made


def _remember(summary: Summary) -> Summary:
    _AS_MADE.append((summary, json.dumps(summary.to_dict())))
    return summary


def _check_unchanged() -> None:
    changed = [s.model for s, made in _AS_MADE if json.dumps(s.to_dict()) != made]
    assert changed == [], f"a test changed the shared summaries of {changed}: use dataclasses.replace"


@functools.cache
def _summary(name: str) -> Summary:
    import archscope

    return _remember(archscope.summarize(name))


@functools.cache
def _trace(name: str) -> tuple[Summary, Dataflow]:
    from archscope.draw import trace

    summary, flow = trace(name)
    return _remember(summary), flow


@pytest.fixture(scope="session")
def zoo_summary() -> Iterator[Callable[[str], Summary]]:
    """``zoo_summary(name)``: ``archscope.summarize(name)``, computed once per session."""
    yield _summary
    _check_unchanged()


@pytest.fixture(scope="session")
def zoo_trace() -> Iterator[Callable[[str], tuple[Summary, Dataflow]]]:
    """``zoo_trace(name)``: ``archscope.draw.trace(name)`` (the summary and its dataflow), once per session."""
    yield _trace
    _check_unchanged()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On xdist's workers, the tests marked slow go first: each worker starts on a long one, and
    the short ones fill in at the end, instead of one long test running alone after all others."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)
