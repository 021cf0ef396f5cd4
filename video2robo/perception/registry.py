"""Segmenters, point trackers and depth backends chosen by name: get_segmenter("grabcut"),
get_tracker("lk"), get_depth_backend("depth-anything", checkpoint=DIR).

Optional backends import their packages only when requested, and raise BackendUnavailable (a
UserError) naming the package and its install command when it is missing.
"""

from __future__ import annotations

from typing import Any, Callable

from video2robo.errors import UserError
from video2robo.perception.segment import Segmenter
from video2robo.perception.track import PointTracker


def _grabcut(**kw: Any) -> Segmenter:
    from video2robo.perception.grabcut import GrabCutOptions, GrabCutSegmenter

    return GrabCutSegmenter(GrabCutOptions(**kw))


def _sam2(**kw: Any) -> Segmenter:
    from video2robo.perception.sam2_backend import Sam2Segmenter

    return Sam2Segmenter(**kw)


def _lk(**kw: Any) -> PointTracker:
    from video2robo.perception.lucas_kanade import LKOptions, LucasKanadeTracker

    return LucasKanadeTracker(LKOptions(**kw))


def _cotracker3(**kw: Any) -> PointTracker:
    from video2robo.perception.cotracker_backend import CoTracker3Tracker

    return CoTracker3Tracker(**kw)


def _depth_anything(**kw: Any):
    from video2robo.perception.depth_backend import DepthAnything

    return DepthAnything(**kw)


SEGMENTERS: dict[str, Callable[..., Segmenter]] = {"grabcut": _grabcut, "sam2": _sam2}
TRACKERS: dict[str, Callable[..., PointTracker]] = {"lk": _lk, "cotracker3": _cotracker3}
DEPTH_BACKENDS: dict[str, Callable[..., Any]] = {"depth-anything": _depth_anything}  # no default: depth is optional


def make_named(kind: str, table: dict, name: str, kwargs: dict):
    """table[name](**kwargs), with a one-line UserError for an unknown name or a misspelt option."""
    if name not in table:
        raise UserError(f"unknown {kind} '{name}'; choose one of: {', '.join(sorted(table))}")
    try:
        return table[name](**kwargs)
    except TypeError as exc:  # a misspelt option name: say which options exist
        raise UserError(f"bad option for {kind} '{name}': {exc}") from exc


def get_segmenter(name: str = "grabcut", **options: Any) -> Segmenter:
    """A segmenter by name; `options` are its option fields (e.g. iterations=5, or checkpoint=PATH)."""
    return make_named("segmenter", SEGMENTERS, name, options)


def get_tracker(name: str = "lk", **options: Any) -> PointTracker:
    """A point tracker by name; `options` are its option fields (e.g. win_size=15, or checkpoint=PATH)."""
    return make_named("tracker", TRACKERS, name, options)


def get_depth_backend(name: str, **options: Any):
    """A monocular depth backend by name (`depth(image)` → metres); `options`: e.g. checkpoint=DIR."""
    return make_named("depth backend", DEPTH_BACKENDS, name, options)
