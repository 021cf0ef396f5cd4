"""Pixel-coordinate conventions at the OpenCV boundary.

The project convention (video2robo.geometry.camera) puts the centre of pixel (i, j) at
(i + 0.5, j + 0.5): coordinates are continuous, the image spans [0, W] × [0, H]. OpenCV's point
functions (calcOpticalFlowPyrLK, goodFeaturesToTrack, warpAffine matrices, drawing) put pixel centres
at integers, so every array of points crossing into or out of OpenCV goes through these helpers.
Integer pixel indices of a mask (row, column) become project coordinates with `indices_to_xy`.
"""

from __future__ import annotations

import numpy as np


def to_cv(xy: np.ndarray) -> np.ndarray:
    """Project (x, y) → OpenCV (x, y): subtract half a pixel. Returns float32 (OpenCV's point type)."""
    return (np.asarray(xy, dtype=np.float64) - 0.5).astype(np.float32)


def from_cv(xy_cv: np.ndarray) -> np.ndarray:
    """OpenCV (x, y) → project (x, y): add half a pixel. Returns float64."""
    return np.asarray(xy_cv, dtype=np.float64) + 0.5


def indices_to_xy(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Pixel centres (P, 2) in project coordinates of integer (row, column) indices."""
    return np.stack([np.asarray(cols, np.float64) + 0.5, np.asarray(rows, np.float64) + 0.5], axis=-1)


def xy_to_indices(xy: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the pixels containing project points, clipped into the image."""
    xy = np.asarray(xy, dtype=np.float64)
    cols = np.clip(np.floor(xy[..., 0]).astype(np.int64), 0, width - 1)
    rows = np.clip(np.floor(xy[..., 1]).astype(np.int64), 0, height - 1)
    return rows, cols


def affine_to_cv(A: np.ndarray) -> np.ndarray:
    """A 2×3 affine map between project coordinates expressed for OpenCV's integer-centre pixels
    (x_cv = A (x_cv + 0.5) - 0.5), e.g. to pass to cv2.warpAffine."""
    A = np.asarray(A, dtype=np.float64)
    out = A.copy()
    out[:, 2] = A[:, :2] @ np.array([0.5, 0.5]) + A[:, 2] - 0.5
    return out


def homography_to_cv(H: np.ndarray) -> np.ndarray:
    """A 3×3 homography between project coordinates expressed for OpenCV's integer-centre pixels."""
    shift = np.array([[1.0, 0, 0.5], [0, 1.0, 0.5], [0, 0, 1.0]])
    unshift = np.array([[1.0, 0, -0.5], [0, 1.0, -0.5], [0, 0, 1.0]])
    return unshift @ np.asarray(H, dtype=np.float64) @ shift
