"""Binary object masks: loading user-supplied mask images and cleaning segmenter output.

Masks are bool arrays (H, W), True on the object.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from video2robo.errors import UserError


def load_mask(path: Path | str, width: int, height: int, name: str = "object") -> np.ndarray:
    """A mask image → bool (height, width). Pixels above half intensity are the object (anti-aliased
    edges are common in painted masks); an RGBA image uses its alpha when it is not constant.
    A mask with the frame's aspect ratio but another size (frames read downscaled) is resized;
    other sizes and empty masks raise UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"mask for '{name}' not found: {path}")
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("RGBA", "LA") and np.ptp(np.asarray(im.getchannel("A"))) > 0:
                arr = np.asarray(im.getchannel("A"), dtype=np.float32)
            else:
                arr = np.asarray(im.convert("L"), dtype=np.float32)
    except (UnidentifiedImageError, OSError) as exc:
        raise UserError(f"mask for '{name}' is not a readable image: {path} ({exc})") from exc
    arr = arr / 255.0 if arr.max() > 1.0 else arr
    h, w = arr.shape
    if (w, h) != (width, height):
        if abs(w / h - width / height) > 0.01 * (width / height):
            raise UserError(f"mask for '{name}' is {w}x{h} but the frames are {width}x{height} (another aspect ratio)")
        arr = cv2.resize(arr, (width, height), interpolation=cv2.INTER_AREA if w > width else cv2.INTER_LINEAR)
    mask = arr > 0.5
    if not mask.any():
        raise UserError(f"mask for '{name}' ({path}) is empty: no pixel above half intensity")
    return mask


def disk(radius: int) -> np.ndarray:
    """A filled disc structuring element of the given radius (radius 0: a single pixel)."""
    r = max(0, int(radius))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill background regions not connected to the image border (e.g. specular highlights)."""
    inv = (~mask).astype(np.uint8)
    n, labels = cv2.connectedComponents(inv, connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    holes = ~np.isin(labels, border) & (inv > 0)
    return mask | holes


def hull_gaps(mask: np.ndarray, max_ratio: float = 3.0) -> np.ndarray:
    """Pixels inside the mask's convex hull that are not in the mask: where fingers cross an object
    detected by its colours (empty when the hull is over `max_ratio` × the mask's area: too sparse a
    detection to say what lies between its pieces)."""
    out = np.zeros_like(mask, dtype=bool)
    ys, xs = np.nonzero(mask)
    if len(ys) < 3:
        return out
    hull = np.zeros(mask.shape, np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.stack([xs, ys], 1).astype(np.int32)), 1)
    if hull.sum() > max_ratio * len(ys):
        return out
    return (hull > 0) & ~mask


def keep_components(mask: np.ndarray, seeds: np.ndarray | None = None) -> np.ndarray:
    """Keep the connected components of `mask` that overlap `seeds` (bool, same shape); with no
    seeds or no overlap, keep the largest component. Removes detached background blobs."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(mask, dtype=bool)
    keep = np.unique(labels[seeds & mask]) if seeds is not None else np.zeros(0, dtype=int)
    keep = keep[keep > 0]
    if keep.size == 0:
        keep = np.array([1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))])
    return np.isin(labels, keep)


def clean_mask(mask: np.ndarray, seeds: np.ndarray | None = None, open_radius: int = 1,
               close_radius: int = 2, holes: bool = True) -> np.ndarray:
    """Morphological opening (drops specks) and closing (bridges cracks), then the components that
    touch the prompt seeds, then hole filling. Returns bool (H, W)."""
    m = mask.astype(np.uint8)
    if open_radius > 0:
        m = cv2.morphologyEx(m, cv2.MORPH_OPEN, disk(open_radius))
    if close_radius > 0:
        m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, disk(close_radius))
    out = keep_components(m > 0, seeds)
    return fill_holes(out) if holes else out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two bool masks (1.0 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(col0, row0, col1, row1) exclusive bounds of the True pixels, or None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def extent_px(mask: np.ndarray) -> int:
    """The longer side of the mask's bounding box, in pixels (0 for an empty mask): its length, for a stick."""
    box = bbox(mask)
    return 0 if box is None else max(box[2] - box[0], box[3] - box[1])


def thickness_px(mask: np.ndarray) -> float:
    """Area over `extent_px`: about the width of a thin mask, in pixels (0 for an empty mask)."""
    extent = extent_px(mask)
    return 0.0 if extent == 0 else float(mask.sum()) / extent
