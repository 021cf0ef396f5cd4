"""What is in front of the table that is none of the task objects: the hand, mostly (no weights).

With the camera's motion known (perception.camera_motion), the first frame's view of the table can be
warped into any later frame by the table plane's homography. Pixels that differ from it show something
that was not there: an object that moved, the hand, or a shadow. Those among them that do not have an
object's colours are occluders (or a shadow, or table the source uncovered): for that object's fit they
carry no evidence either way, so the losses ignore them instead of reading "not the object" there (the
fit would shrink away from the hand holding it) or the silhouette snaps onto the hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from video2robo.perception.masks import disk


@dataclass
class OccluderOptions:
    blur_sigma: float = 1.5  # compare blurred images: blur, compression and sub-pixel warps differ at edges
    threshold: float = 30.0  # mean absolute RGB difference (0-255) above which a pixel changed
    object_margin_px: int = 6  # the first frame's object pixels (and this margin) are not table: no reference
    open_px: int = 1
    resting_depth_tol: float = 0.01  # m: a resting object's surface point seen in the first frame (changed_on_resting)


def plane_homography(K: np.ndarray, T_cam_cam0: np.ndarray, n: np.ndarray, d: float) -> np.ndarray:
    """3x3 H mapping first-camera pixels of the plane n·X = d (first-camera frame) to pixels now."""
    R, t = T_cam_cam0[:3, :3], T_cam_cam0[:3, 3]
    return K @ (R + np.outer(t, n) / d) @ np.linalg.inv(K)


def _sample(image: np.ndarray, x: np.ndarray, y: np.ndarray, width: int = 4096) -> np.ndarray:
    """(N, C) bilinear samples of image at (x, y): cv2.remap with the points laid out in rows of `width`
    (a map may not be 32767 or more pixels wide: a large target is)."""
    n = len(x)
    rows = -(-n // width)
    mx, my = np.zeros(rows * width, np.float32), np.zeros(rows * width, np.float32)
    mx[:n], my[:n] = x, y
    out = cv2.remap(image, mx.reshape(rows, width), my.reshape(rows, width), cv2.INTER_LINEAR)
    return out.reshape(rows * width, -1)[:n]


class TableChanges:
    """Pixels that differ from the first frame's table seen from the camera now (module docstring)."""

    def __init__(self, frame0: np.ndarray, objects0: np.ndarray, K: np.ndarray, n: np.ndarray, foot: np.ndarray,
                 options: OccluderOptions | None = None, resting0: np.ndarray | None = None):
        self.opt = options or OccluderOptions()
        self.K, self.n = np.asarray(K, np.float64), np.asarray(n, np.float64)
        self.d = float(self.n @ np.asarray(foot, np.float64))
        self.ref = cv2.GaussianBlur(frame0.astype(np.float32), (0, 0), self.opt.blur_sigma)
        self.known = (cv2.dilate(objects0.astype(np.uint8), disk(self.opt.object_margin_px)) == 0).astype(np.uint8)
        # resting0: first-frame pixels of an object that stays put (the target); without their edge, its
        # own reference for `changed`'s over_resting (an object set down on it) and `changed_on_resting`
        # (off the table's plane, so not compared with the table's)
        self.resting0_inner = np.zeros_like(self.known) if resting0 is None else (
            cv2.erode(resting0.astype(np.uint8), disk(self.opt.object_margin_px)) > 0).astype(np.uint8)
        self.known_resting = self.known | self.resting0_inner
        self.depth0: np.ndarray | None = None  # the resting object's first-frame depth (set_resting_depth)

    def changed(self, frame: np.ndarray, T_cam_cam0: np.ndarray, over_resting: bool = False) -> np.ndarray:
        """(H, W) bool: the pixel shows something other than the first frame's table (False where the
        first frame has no view of the table there), or, `over_resting`, other than the first frame's
        table or resting object (`resting0`)."""
        diff, Hm = self._difference(frame, T_cam_cam0)
        return self._known_part(diff, Hm, self.known_resting if over_resting else self.known)

    def changed_both(self, frame: np.ndarray, T_cam_cam0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(`changed`, `changed` over_resting) from one comparison of the frame with the first."""
        diff, Hm = self._difference(frame, T_cam_cam0)
        return self._known_part(diff, Hm, self.known), self._known_part(diff, Hm, self.known_resting)

    def set_resting_depth(self, depth0: np.ndarray, alpha0: np.ndarray) -> None:
        """The resting object's rendered depth and alpha in the first frame, for `changed_on_resting`."""
        self.depth0 = np.where(alpha0 > 0.5, depth0, 0.0).astype(np.float32)

    def changed_on_resting(self, frame: np.ndarray, T_cam_cam0: np.ndarray, depth: np.ndarray,
                           alpha: np.ndarray) -> np.ndarray:
        """(H, W) bool: pixels of the resting object (rendered now: depth, alpha) that differ from its
        first-frame view, each re-projected through its rendered depth (exact for a rigid object that
        stayed put, where the table's homography is not: its top is off the table's plane). Only where
        the first frame saw that very surface point (its rendered depth there agrees within
        `resting_depth_tol`) on the resting object's own first-frame pixels. What changed there is
        something in front of it: the hand reaching over it, or an object put on it. All False before
        `set_resting_depth`."""
        h, w = depth.shape
        out = np.zeros((h, w), bool)
        if self.depth0 is None:
            return out
        inside = cv2.erode((alpha > 0.5).astype(np.uint8), disk(self.opt.object_margin_px)) > 0
        ys, xs = np.nonzero(inside)
        if len(ys) == 0:
            return out
        z = depth[ys, xs].astype(np.float64)
        X = (np.linalg.inv(self.K) @ np.stack([xs + 0.5, ys + 0.5, np.ones_like(z)])) * z  # the camera's frame now
        T_cam0_cam = np.linalg.inv(T_cam_cam0)
        X0 = T_cam0_cam[:3, :3] @ X + T_cam0_cam[:3, 3:]  # the first camera's
        front = X0[2] > 1e-6
        uv = (self.K @ X0)[:2] / np.where(front, X0[2], 1.0) - 0.5
        u, v = np.round(uv[0]).astype(int), np.round(uv[1]).astype(int)
        ok = front & (u >= 0) & (u < w) & (v >= 0) & (v < h)
        ok[ok] &= self.resting0_inner[v[ok], u[ok]] > 0
        ok[ok] &= np.abs(self.depth0[v[ok], u[ok]] - X0[2, ok]) <= self.opt.resting_depth_tol
        ref = _sample(self.ref, uv[0], uv[1])
        cur = cv2.GaussianBlur(frame.astype(np.float32), (0, 0), self.opt.blur_sigma)[ys, xs]
        out[ys[ok], xs[ok]] = np.abs(cur[ok] - ref[ok]).mean(axis=1) > self.opt.threshold
        if self.opt.open_px:
            out = cv2.morphologyEx(out.astype(np.uint8), cv2.MORPH_OPEN, disk(self.opt.open_px)) > 0
        return out

    def _difference(self, frame: np.ndarray, T_cam_cam0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(H, W) bool: differs from the first frame warped by the table's homography; and that homography."""
        h, w = frame.shape[:2]
        # project pixel centres sit half a pixel off OpenCV's: conjugate the homography by the shift
        S = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1.0]])
        Hm = np.linalg.inv(S) @ plane_homography(self.K, T_cam_cam0, self.n, self.d) @ S
        ref = cv2.warpPerspective(self.ref, Hm, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
        cur = cv2.GaussianBlur(frame.astype(np.float32), (0, 0), self.opt.blur_sigma)
        return np.abs(cur - ref).mean(axis=2) > self.opt.threshold, Hm

    def _known_part(self, diff: np.ndarray, Hm: np.ndarray, known0: np.ndarray) -> np.ndarray:
        """`diff` where the first frame's `known0` pixels, warped, give a reference, opened."""
        h, w = diff.shape
        known = cv2.warpPerspective(known0, Hm, (w, h), flags=cv2.INTER_NEAREST, borderValue=0) > 0
        out = diff & known
        if self.opt.open_px:
            out = cv2.morphologyEx(out.astype(np.uint8), cv2.MORPH_OPEN, disk(self.opt.open_px)) > 0
        return out
