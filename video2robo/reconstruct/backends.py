"""Object model builders chosen by name (`parse --model-backend`): how an object without a model file
gets one from its first-frame crop and mask.

"single-view" (the default) needs no weights: the silhouette inflated into a pillow
(reconstruct.single_view). "trellis" runs an image-to-3D model (TRELLIS) from a local checkpoint
(reconstruct.trellis_backend). Either returns a `LiftedModel`: Gaussians in metres in an object frame
whose z is up, and where the model was placed in the first camera's frame. Whether that placement is
the object's first pose or only a start for the first frame's search is the builder's to say: a lifted
silhouette is seen exactly as in the first frame, a generated shape is turned about its up by a yaw
nobody measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np

from video2robo.perception.registry import make_named


@dataclass
class LiftedModel:
    gaussians: Any  # GaussianSet in the object frame (metres, z up when the table's up was known)
    T_cam_obj: np.ndarray  # where it was placed in the first camera's frame
    posed: bool  # T_cam_obj is the first frame's pose (seen as in that frame, z along the measured up)


class ModelBuilder(Protocol):
    name: str

    def build(self, rgb: np.ndarray, mask: np.ndarray, K: np.ndarray, extent_m: float,
              up: np.ndarray | None) -> LiftedModel:
        """A model of the object in `mask` of the first frame `rgb` ((H,W,3) float in [0,1]), `extent_m`
        metres across at its largest, placed where it is seen; `up`: the table's up in the camera frame."""
        ...


class SingleViewBuilder:
    """Model backend "single-view": the weight-free lifted silhouette (reconstruct.single_view)."""

    name = "single-view"

    def __init__(self, max_gaussians: int = 6000, seed: int = 0):
        self.max_gaussians, self.seed = max_gaussians, seed

    def build(self, rgb, mask, K, extent_m, up) -> LiftedModel:
        from video2robo.reconstruct.single_view import single_view_model

        g, T_cam_obj, _ = single_view_model(rgb, mask, K, extent_m, self.max_gaussians, self.seed, up=up)
        return LiftedModel(g, T_cam_obj, posed=up is not None)


def _single_view(**kw: Any) -> ModelBuilder:
    return SingleViewBuilder(**kw)


def _trellis(**kw: Any) -> ModelBuilder:
    from video2robo.reconstruct.trellis_backend import TrellisBuilder

    return TrellisBuilder(**kw)


MODEL_BUILDERS: dict[str, Callable[..., ModelBuilder]] = {"single-view": _single_view, "trellis": _trellis}


def get_model_builder(name: str = "single-view", **options: Any) -> ModelBuilder:
    """A model builder by name; `options` are its settings (e.g. checkpoint=DIR for "trellis")."""
    return make_named("model backend", MODEL_BUILDERS, name, options)


def upright_in_camera(up: np.ndarray) -> np.ndarray:
    """R_cam_obj of an object frame whose z is `up` (camera frame) and whose x is image right made
    orthogonal to it: the frame a model built from one view is given."""
    z = np.asarray(up, np.float64) / np.linalg.norm(up)
    x = np.array([1.0, 0.0, 0.0]) - z[0] * z
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z], axis=1)


def depth_spanning(mask: np.ndarray, K: np.ndarray, extent_m: float) -> float:
    """The depth (m) at which an object `extent_m` across at its largest spans the mask's larger side."""
    ys, xs = np.nonzero(mask)
    extent_px = max(np.ptp(xs) + 1, np.ptp(ys) + 1)
    return float(0.5 * (K[0, 0] + K[1, 1]) * extent_m / extent_px)


def place_in_view(points: np.ndarray, mask: np.ndarray, K: np.ndarray, extent_m: float,
                  up: np.ndarray | None) -> np.ndarray:
    """T_cam_obj putting an object-frame model (z up, its points `points`) on the viewing ray of the mask's
    centroid, at the depth where its largest extent spans the mask's largest side, z along `up` (else
    along image up) and x as near image right as that allows."""
    ys, xs = np.nonzero(mask)
    ray = np.linalg.inv(K) @ np.array([xs.mean() + 0.5, ys.mean() + 0.5, 1.0])
    T = np.eye(4)
    T[:3, :3] = upright_in_camera(np.array([0.0, -1.0, 0.0]) if up is None else up)
    T[:3, 3] = ray * depth_spanning(mask, K, extent_m) - T[:3, :3] @ (0.5 * (points.min(0) + points.max(0)))  # its box's centre on the ray
    return T
