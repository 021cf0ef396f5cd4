"""BOP challenge pose-error metrics — MSSD, MSPD, VSD — and the Average Recall (AR) built from them.

Definitions follow the BOP toolkit (Hodaň et al., BOP 2019-2023):
- MSSD  e = min_S max_x ‖P_est x − P_gt S x‖ over model vertices x and symmetries S (metres);
        correct if e < θ·diameter, θ ∈ {0.05, 0.10, …, 0.50}.
- MSPD  e = min_S max_x ‖π(P_est x) − π(P_gt S x)‖ in pixels; correct if e < θ·(width/640),
        θ ∈ {5, 10, …, 50} px.
- VSD   on distance images (distance from the camera centre, not z-depth) of the model rendered at the
        estimated and true poses and of the test scene: visibility masks with δ = 15 mm (BOP'19 mode),
        e_τ = (#pixels in the union of the visible masks not matching within τ) / #union, for
        τ ∈ {0.05, …, 0.50}·diameter; correct if e_τ < θ, θ ∈ {0.05, …, 0.50}. Symmetry-aware by
        construction (it compares only what is visible).
Recall of each metric = fraction of (instance, threshold[, τ]) pairs that are correct; AR = mean of the
three recalls. Poses are 4x4 T_cam_obj (metres); symmetries are 4x4 transforms in the object frame.
"""

from __future__ import annotations

import math

import numpy as np

MSSD_THRESHOLDS = np.arange(0.05, 0.51, 0.05)  # × diameter
MSPD_THRESHOLDS = np.arange(5.0, 51.0, 5.0)  # pixels at width 640
VSD_TAUS = np.arange(0.05, 0.51, 0.05)  # × diameter
VSD_THETAS = np.arange(0.05, 0.51, 0.05)
VSD_DELTA = 0.015  # metres


def symmetry_transforms(symmetries_discrete=(), symmetries_continuous=(), max_step: float = 0.01) -> np.ndarray:
    """All symmetry transforms (S, 4, 4), identity included, as in BOP's get_symmetry_transformations.

    Continuous symmetries are discretised into ceil(π / max_step) rotations (the vertex furthest from the
    axis moves at most `max_step` × diameter between neighbours) and combined with every discrete one.
    """
    discrete = [np.eye(4)] + [np.asarray(S, dtype=np.float64) for S in symmetries_discrete if not np.allclose(S, np.eye(4))]
    if len(symmetries_continuous) > 1:
        raise ValueError("at most one continuous symmetry axis is supported (as in BOP)")
    conts = [np.eye(4)]
    if symmetries_continuous:
        axis = np.asarray(symmetries_continuous[0]["axis"], dtype=np.float64)
        axis /= np.linalg.norm(axis)
        offset = np.asarray(symmetries_continuous[0].get("offset", (0, 0, 0)), dtype=np.float64)
        n = int(math.ceil(math.pi / max_step))
        conts = []
        K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        for a in np.arange(n) * 2 * math.pi / n:
            R = np.eye(3) + math.sin(a) * K + (1 - math.cos(a)) * K @ K
            T = np.eye(4)
            T[:3, :3] = R
            T[:3, 3] = offset - R @ offset
            conts.append(T)
    return np.stack([C @ D for D in discrete for C in conts])


def _transform(T: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ T[..., :3, :3].swapaxes(-1, -2) + T[..., None, :3, 3]


def mssd(T_est: np.ndarray, T_gt: np.ndarray, pts: np.ndarray, syms: np.ndarray) -> float:
    """Maximum Symmetry-aware Surface Distance (metres)."""
    p_est = _transform(T_est, pts)
    best = np.inf
    for chunk in np.array_split(syms, max(1, len(syms) // 64)):
        p_gt = _transform(T_gt @ chunk, pts)  # (s, V, 3)
        best = min(best, float(np.linalg.norm(p_gt - p_est[None], axis=-1).max(axis=1).min()))
    return best


def _project(K: np.ndarray, p: np.ndarray) -> np.ndarray:
    uv = p[..., :2] / p[..., 2:3]
    return uv @ K[:2, :2].T + K[:2, 2]


def mspd(T_est: np.ndarray, T_gt: np.ndarray, K: np.ndarray, pts: np.ndarray, syms: np.ndarray) -> float:
    """Maximum Symmetry-aware Projection Distance (pixels)."""
    uv_est = _project(K, _transform(T_est, pts))
    best = np.inf
    for chunk in np.array_split(syms, max(1, len(syms) // 64)):
        uv_gt = _project(K, _transform(T_gt @ chunk, pts))
        best = min(best, float(np.linalg.norm(uv_gt - uv_est[None], axis=-1).max(axis=1).min()))
    return best


def depth_to_distance(depth: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Distance from the camera centre of each pixel's 3D point, from z-depth (0 stays 0)."""
    h, w = depth.shape
    u = (np.arange(w) + 0.5 - K[0, 2]) / K[0, 0]
    v = (np.arange(h) + 0.5 - K[1, 2]) / K[1, 1]
    return depth * np.sqrt(1.0 + u[None, :] ** 2 + v[:, None] ** 2)


def _visible(d_test: np.ndarray, d_model: np.ndarray, delta: float) -> np.ndarray:
    """BOP'19 visibility: model pixels not behind the scene by more than δ (or where the scene has no data)."""
    return ((d_model - d_test <= delta) | (d_test == 0)) & (d_model > 0)


def vsd(depth_est: np.ndarray, depth_gt: np.ndarray, depth_test: np.ndarray, K: np.ndarray, diameter: float,
        taus=VSD_TAUS, delta: float = VSD_DELTA) -> np.ndarray:
    """Visible Surface Discrepancy e_τ for each τ (fractions of the diameter), BOP'19 variant.

    depth_est / depth_gt: z-depth of the model alone rendered at the estimated / true pose (0 = empty);
    depth_test: z-depth of the test scene. Returns an array of errors in [0, 1], one per τ.
    """
    d_est, d_gt, d_test = (depth_to_distance(d, K) for d in (depth_est, depth_gt, depth_test))
    vis_gt = _visible(d_test, d_gt, delta)
    vis_est = _visible(d_test, d_est, delta) | (vis_gt & (d_est > 0))
    inter, union = vis_gt & vis_est, vis_gt | vis_est
    n_union = int(union.sum())
    taus = np.asarray(taus, dtype=np.float64)
    if n_union == 0:
        return np.ones(len(taus))
    n_comp = n_union - int(inter.sum())
    dists = np.abs(d_gt[inter] - d_est[inter]) / diameter
    return np.array([(np.count_nonzero(dists >= tau) + n_comp) / n_union for tau in taus])


def recall_mssd(err: float, diameter: float) -> float:
    return float(np.mean(err < MSSD_THRESHOLDS * diameter))


def recall_mspd(err: float, width: int) -> float:
    return float(np.mean(err < MSPD_THRESHOLDS * width / 640.0))


def recall_vsd(errs: np.ndarray) -> float:
    """errs: e_τ for each τ in VSD_TAUS."""
    return float(np.mean(np.asarray(errs)[:, None] < VSD_THETAS[None, :]))


def average_recall(recalls: list[dict[str, float]]) -> dict[str, float]:
    """AR_MSSD, AR_MSPD, AR_VSD (means over instances) and AR (their mean), from per-instance recalls."""
    if not recalls:
        return {"AR": float("nan"), "AR_MSSD": float("nan"), "AR_MSPD": float("nan"), "AR_VSD": float("nan"), "n": 0}
    out = {f"AR_{k}": float(np.mean([r[k] for r in recalls])) for k in ("MSSD", "MSPD", "VSD")}
    out["AR"] = (out["AR_MSSD"] + out["AR_MSPD"] + out["AR_VSD"]) / 3.0
    out["n"] = len(recalls)
    return out
