"""Default point tracker ("lk"): pyramidal Lucas–Kanade with forward–backward checking.

Each frame, every live point is tracked forward t-1 → t and the result back t → t-1; a point stays
visible only if both directions converge, the round trip lands within fb_max_error_px of where it
started, the patch still looks alike (normalised cross-correlation) and it is inside the image.
Translational LK is biased when the patch rotates (the bias accumulates frame after frame: on the
synthetic test, ~0.3 px median after 30 frames at 1.1°/frame with 11-px windows, more with larger
windows), so the window is kept small; pose fitting should treat tracks as drifting slowly.
(A per-object motion-compensated second pass was tried and did not reduce drift.)
Lucas–Kanade cannot re-find a point once lost, so a dropped point stays invisible (and NaN) for good;
callers re-seed new points through the on_frame callback (supports_reseed = True).
OpenCV's point functions use integer pixel centres: positions are converted with perception.pixels
at the call boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
from tqdm import tqdm

from video2robo.perception.pixels import from_cv, to_cv
from video2robo.perception.track import FrameCallback, Tracks


@dataclass
class LKOptions:
    """Pyramidal LK settings and the consistency checks that decide visibility."""

    win_size: int = 11  # small: less rotation bias (see module doc); pyramid handles large motion
    max_level: int = 3
    max_iterations: int = 30
    epsilon: float = 0.01
    fb_max_error_px: float = 0.7  # forward–backward round-trip error above which a point is dropped
    min_ncc: float = 0.6  # patch similarity (t-1 vs t) below which a point is dropped; <= -1 disables
    ncc_half_size: int = 4  # patch half size for the NCC check (9×9 patches)
    border_px: float = 1.0  # points closer than this to the image edge are dropped
    show_progress: bool = True


def _patch_ncc(a: np.ndarray, b: np.ndarray, pa: np.ndarray, pb: np.ndarray, half: int) -> np.ndarray:
    """Normalised cross-correlation of (2·half+1)² patches around OpenCV points pa in a and pb in b."""
    size = (2 * half + 1, 2 * half + 1)
    out = np.empty(len(pa))
    for i, (qa, qb) in enumerate(zip(pa, pb)):
        wa = cv2.getRectSubPix(a, size, (float(qa[0]), float(qa[1]))).astype(np.float64).ravel()
        wb = cv2.getRectSubPix(b, size, (float(qb[0]), float(qb[1]))).astype(np.float64).ravel()
        wa -= wa.mean()
        wb -= wb.mean()
        denom = np.sqrt((wa @ wa) * (wb @ wb))
        out[i] = (wa @ wb) / denom if denom > 1e-6 else 1.0  # flat patches: nothing to compare, keep
    return out


def corners_to_track(gray: np.ndarray, region: np.ndarray, live_xy: np.ndarray, count: int, quality: float,
                     min_distance_px: int, block_size: int, min_region: int) -> np.ndarray:
    """Up to `count` Shi–Tomasi corners (project coordinates) inside `region`, none within
    min_distance_px of the live tracks `live_xy`: new points for a tracker to follow. Empty when fewer
    than `min_region` pixels of the region are left."""
    region = region.astype(np.uint8)
    for x, y in np.asarray(live_xy).astype(int):
        cv2.circle(region, (int(x), int(y)), min_distance_px, 0, -1)
    if count <= 0 or region.sum() < min_region:
        return np.zeros((0, 2))
    c = cv2.goodFeaturesToTrack(gray, count, quality, min_distance_px, mask=region, blockSize=block_size)
    return np.zeros((0, 2)) if c is None else from_cv(c.reshape(-1, 2).astype(np.float64))


class LucasKanadeTracker:
    """Point tracker "lk": cv2.calcOpticalFlowPyrLK with forward–backward and NCC checks."""

    name = "lk"
    supports_reseed = True

    def __init__(self, options: LKOptions | None = None):
        self.options = options or LKOptions()

    def _lk_kwargs(self) -> dict:
        opt = self.options
        return dict(winSize=(opt.win_size, opt.win_size), maxLevel=opt.max_level,
                    criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, opt.max_iterations, opt.epsilon))

    def step(self, prev: np.ndarray, cur: np.ndarray, p0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Forward LK from gray image prev to cur for OpenCV points p0, then the backward, border and
        NCC checks: (p1 (K, 2) OpenCV coords, ok (K,))."""
        opt = self.options
        if len(p0) == 0:
            return p0, np.zeros(0, dtype=bool)
        kw = self._lk_kwargs()
        src = p0.reshape(-1, 1, 2).astype(np.float32)
        p1, st1, _ = cv2.calcOpticalFlowPyrLK(prev, cur, src, None, **kw)
        p0r, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, p1, src.copy(), flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **kw)
        p1, p0r = p1.reshape(-1, 2), p0r.reshape(-1, 2)
        fb = np.linalg.norm(p0r - p0, axis=1)
        h, w = cur.shape
        b = opt.border_px
        inside = (p1[:, 0] >= b - 0.5) & (p1[:, 0] <= w - 0.5 - b) & (p1[:, 1] >= b - 0.5) & (p1[:, 1] <= h - 0.5 - b)
        ok = (st1.ravel() == 1) & (st2.ravel() == 1) & np.isfinite(p1).all(axis=1) & (fb < opt.fb_max_error_px) & inside
        if opt.min_ncc > -1 and ok.any():
            idx = np.flatnonzero(ok)
            ok[idx] = _patch_ncc(prev, cur, p0[idx], p1[idx], opt.ncc_half_size) >= opt.min_ncc
        return p1, ok

    def track(self, frames: Sequence[np.ndarray], points: np.ndarray, owner: np.ndarray,
              on_frame: FrameCallback | None = None) -> Tracks:
        """Tracks of `points` (P, 2, project coords, starting at frame 0) through `frames`; new points
        returned by `on_frame` start at that frame in new columns."""
        n = len(frames)
        xy = np.full((n, len(points), 2), np.nan)
        xy[0] = points
        visible = np.zeros((n, len(points)), dtype=bool)
        visible[0] = True
        start = np.zeros(len(points), dtype=np.int64)
        owner = np.asarray(owner, dtype=np.int64).copy()
        prev = None
        for t in tqdm(range(n), desc="track points (LK)", unit="frame", disable=not self.options.show_progress):
            frame = np.asarray(frames[t])
            gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
            if t > 0:
                live = np.flatnonzero(visible[t - 1])
                p1, ok = self.step(prev, gray, to_cv(xy[t - 1, live]))
                xy[t, live[ok]] = from_cv(p1[ok])
                visible[t, live[ok]] = True
            if on_frame is not None:
                new = on_frame(t, frame, xy[t], visible[t])
                if new is not None and len(new[0]):
                    new_xy, new_owner = np.asarray(new[0], np.float64).reshape(-1, 2), np.asarray(new[1])
                    k = len(new_xy)
                    xy = np.concatenate([xy, np.full((n, k, 2), np.nan)], axis=1)
                    visible = np.concatenate([visible, np.zeros((n, k), dtype=bool)], axis=1)
                    xy[t, -k:] = new_xy
                    visible[t, -k:] = True
                    start = np.concatenate([start, np.full(k, t)])
                    owner = np.concatenate([owner, new_owner.astype(np.int64)])
            prev = gray
        return Tracks(xy, visible, start, owner)
