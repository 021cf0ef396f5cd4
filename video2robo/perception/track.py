"""Point tracks: the result type, the tracker protocol and sampling of points inside masks.

Tracks have stable identities: column p is one physical point for the whole video. Points added
later (re-seeding) get new columns; before its start frame, and after an online tracker drops it,
a point's coordinates are NaN and it is not visible. Coordinates are project pixels (centres at
+0.5, see perception.pixels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence, runtime_checkable

import cv2
import numpy as np

from video2robo.perception.masks import disk
from video2robo.perception.pixels import from_cv, indices_to_xy

# Called by a tracker after each frame t with (t, frame, xy (P, 2), visible (P,)) of all points so
# far; may clear entries of `visible` in place (the tracker then drops those points from frame t on)
# and may return new points to start at frame t as (xy (K, 2), owner (K,)), or None.
FrameCallback = Callable[[int, np.ndarray, np.ndarray, np.ndarray], "tuple[np.ndarray, np.ndarray] | None"]


@dataclass
class Tracks:
    """Point trajectories: xy (N, P, 2) float64 (NaN where unknown), visible (N, P) bool,
    start (P,) frame each point was seeded at, owner (P,) object index of each point (-1: none)."""

    xy: np.ndarray
    visible: np.ndarray
    start: np.ndarray
    owner: np.ndarray

    @property
    def n_frames(self) -> int:
        return self.xy.shape[0]

    @property
    def n_points(self) -> int:
        return self.xy.shape[1]

    def select(self, columns: np.ndarray) -> "Tracks":
        """The tracks of the given columns (bool mask or indices)."""
        return Tracks(self.xy[:, columns], self.visible[:, columns], self.start[columns], self.owner[columns])

    def of_object(self, index: int) -> "Tracks":
        """The tracks seeded on object `index`."""
        return self.select(self.owner == index)


@runtime_checkable
class PointTracker(Protocol):
    """Tracks points through a video. `frames` is uint8 RGB (N, H, W, 3) (or a sequence of frames);
    `points` (P, 2) start at frame 0 and belong to objects `owner` (P,). `on_frame` is called after
    every frame (see FrameCallback); only trackers with supports_reseed=True accept new points from it."""

    name: str
    supports_reseed: bool

    def track(self, frames: Sequence[np.ndarray], points: np.ndarray, owner: np.ndarray,
              on_frame: FrameCallback | None = None) -> Tracks: ...


@dataclass
class SamplingOptions:
    """How many points to put in an object mask: strong corners plus a uniform grid."""

    max_corners: int = 150
    corner_quality: float = 0.01  # goodFeaturesToTrack qualityLevel
    min_distance_px: float = 5.0
    grid_points: int = 100  # approximate number of grid points (spacing from the mask area)
    erode_px: int = 4  # stay this far inside the mask: LK windows at the boundary see background and drift


def sample_points_in_mask(image: np.ndarray, mask: np.ndarray, options: SamplingOptions | None = None,
                          avoid: np.ndarray | None = None, max_points: int | None = None) -> np.ndarray:
    """Points (K, 2) in project coordinates inside `mask`: Shi–Tomasi corners (trackable texture)
    first, then a uniform grid (coverage of the whole object), none closer than min_distance_px to
    each other or to the `avoid` points (e.g. tracks still alive). At most `max_points` if given."""
    opt = options or SamplingOptions()
    inner = cv2.erode(mask.astype(np.uint8), disk(opt.erode_px)) if opt.erode_px > 0 else mask.astype(np.uint8)
    if not inner.any():
        inner = mask.astype(np.uint8)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    corners = cv2.goodFeaturesToTrack(gray, opt.max_corners, opt.corner_quality, opt.min_distance_px, mask=inner)
    candidates = [from_cv(corners.reshape(-1, 2))] if corners is not None else []
    area = int(inner.sum())
    if opt.grid_points > 0 and area > 0:
        step = max(1, int(round(np.sqrt(area / opt.grid_points))))
        rows, cols = np.nonzero(inner)
        on_grid = (rows % step == step // 2) & (cols % step == step // 2)
        candidates.append(indices_to_xy(rows[on_grid], cols[on_grid]))
    pts = np.concatenate(candidates) if candidates else np.zeros((0, 2))
    kept: list[np.ndarray] = []
    taken = np.zeros((0, 2)) if avoid is None else np.asarray(avoid, np.float64).reshape(-1, 2)
    taken = taken[np.isfinite(taken).all(axis=1)]
    d2 = opt.min_distance_px ** 2
    for p in pts:  # greedy thinning, corners first (they come first in `pts`)
        if max_points is not None and len(kept) >= max_points:
            break
        if len(taken) and (((taken - p) ** 2).sum(axis=1) < d2).any():
            continue
        kept.append(p)
        taken = np.vstack([taken, p])
    return np.asarray(kept, dtype=np.float64).reshape(-1, 2)
