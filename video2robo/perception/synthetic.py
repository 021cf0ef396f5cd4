"""Synthetic image sequences with exact ground truth, for testing segmenters and trackers.

A textured planar object (square or disc) moves rigidly in the image plane (translation + rotation)
over a textured background, optionally passed over by a textured occluder bar. Images are rendered
at `supersample`× resolution by inverse mapping every pixel centre, then area-averaged down, so
edges are anti-aliased like a real camera and the true point positions are exact in project
coordinates (pixel centres at +0.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass
class SceneOptions:
    """Sequence size and motion. Angles in radians, distances in pixels (output resolution)."""

    width: int = 160
    height: int = 120
    n_frames: int = 30
    shape: str = "square"  # "square" or "disc"
    half_size: float = 22.0  # half side of the square / radius of the disc
    start: tuple[float, float] = (55.0, 60.0)  # object centre at frame 0
    velocity: tuple[float, float] = (1.2, 0.4)  # centre motion per frame
    angular_velocity: float = 0.02  # rotation per frame
    occluder: bool = False  # a vertical bar sweeping right to left over the object
    occluder_start_x: float = 120.0
    occluder_speed: float = 3.0
    occluder_half_width: float = 6.0
    supersample: int = 4
    seed: int = 0
    object_colour: tuple[float, float, float] = (200.0, 90.0, 50.0)
    background_colour: tuple[float, float, float] = (70.0, 110.0, 150.0)


@dataclass
class SyntheticSequence:
    """Frames (N, H, W, 3) uint8, true masks (N, H, W) bool, object pose per frame (centre, angle),
    and `occluder_mask` (N, H, W) bool where the occluder covers the image."""

    frames: np.ndarray
    masks: np.ndarray
    centres: np.ndarray
    angles: np.ndarray
    occluder_mask: np.ndarray
    options: SceneOptions = field(repr=False)

    def project(self, object_xy: np.ndarray) -> np.ndarray:
        """True image positions (N, P, 2) of object-frame points (P, 2) (object centre at origin)."""
        c, s = np.cos(self.angles), np.sin(self.angles)
        R = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # (N, 2, 2)
        return np.einsum("nij,pj->npi", R, object_xy) + self.centres[:, None, :]

    def unproject(self, xy0: np.ndarray) -> np.ndarray:
        """Object-frame coordinates of image points at frame 0 (inverse of project at t = 0)."""
        c, s = np.cos(self.angles[0]), np.sin(self.angles[0])
        R = np.array([[c, -s], [s, c]])
        return (np.asarray(xy0) - self.centres[0]) @ R  # R^T applied to row vectors


def _texture(rng: np.random.Generator, width: int, height: int, cell_px: float, colour,
             contrast: float) -> np.ndarray:
    """A smooth random colour texture (height × width × 3 float32) around `colour`, with blobs about
    `cell_px` texels wide (two octaves) — no detail finer than a couple of output pixels, so it
    renders without aliasing, like a real camera's optics would."""
    def octave(cell):
        coarse = rng.normal(size=(max(2, int(height / cell)), max(2, int(width / cell)), 3)).astype(np.float32)
        return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    tex = np.asarray(colour, np.float32) + contrast * (0.6 * octave(4 * cell_px) + 0.8 * octave(cell_px))
    return np.clip(tex, 0, 255)


def make_sequence(options: SceneOptions | None = None) -> SyntheticSequence:
    """Render the sequence described by `options` (deterministic given options.seed)."""
    o = options or SceneOptions()
    rng = np.random.default_rng(o.seed)
    s = o.supersample
    W, H = o.width * s, o.height * s
    bg = _texture(rng, W, H, 3.0 * s, o.background_colour, 35.0)
    tex_size = 256  # texels across the object
    scale = tex_size / (2 * o.half_size)  # texels per output pixel
    obj_tex = _texture(rng, tex_size, tex_size, 2.0 * scale, o.object_colour, 45.0)
    occ_img = _texture(rng, W, H, 3.0 * s, (185.0, 185.0, 185.0), 60.0)
    # pixel centres of the supersampled grid, in output-resolution project coordinates
    gx, gy = np.meshgrid((np.arange(W) + 0.5) / s, (np.arange(H) + 0.5) / s)
    t = np.arange(o.n_frames, dtype=np.float64)
    centres = np.asarray(o.start) + t[:, None] * np.asarray(o.velocity)
    angles = t * o.angular_velocity
    frames, masks, occs = [], [], []
    for k in range(o.n_frames):
        c, sn = np.cos(angles[k]), np.sin(angles[k])
        dx, dy = gx - centres[k, 0], gy - centres[k, 1]
        u, v = c * dx + sn * dy, -sn * dx + c * dy  # object-frame coordinates (R^T (p - c))
        inside = (np.maximum(abs(u), abs(v)) <= o.half_size) if o.shape == "square" else (u * u + v * v <= o.half_size ** 2)
        # texture lookup: object coord [-half, half] → texel index (OpenCV remap: integer centres)
        mx = ((u + o.half_size) * scale - 0.5).astype(np.float32)
        my = ((v + o.half_size) * scale - 0.5).astype(np.float32)
        obj = cv2.remap(obj_tex, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        img = np.where(inside[..., None], obj, bg)
        occ = np.zeros((H, W), dtype=bool)
        if o.occluder:
            ox = o.occluder_start_x - o.occluder_speed * k
            occ = np.abs(gx - ox) <= o.occluder_half_width
            img = np.where(occ[..., None], occ_img, img)
        down = cv2.resize(img, (o.width, o.height), interpolation=cv2.INTER_AREA)
        frames.append(np.clip(np.round(down), 0, 255).astype(np.uint8))
        area = cv2.resize((inside & ~occ).astype(np.float32), (o.width, o.height), interpolation=cv2.INTER_AREA)
        masks.append(area >= 0.5)
        occs.append(cv2.resize(occ.astype(np.float32), (o.width, o.height), interpolation=cv2.INTER_AREA) > 0)
    return SyntheticSequence(np.stack(frames), np.stack(masks), centres, angles, np.stack(occs), o)
