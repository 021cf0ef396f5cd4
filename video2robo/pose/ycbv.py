"""Pose fitting on real YCB-Video RGB-D frames with ground truth: loading, fitting, BOP scoring.

Used by `benchmarks/ycbv_accuracy.py` and its test. A YCB-Video frame is `<i>-color.png`,
`<i>-depth.png` (1/`factor_depth` m), `<i>-label.png` (class index per pixel) and `<i>-meta.mat`
(`intrinsic_matrix`, 1-based `cls_indexes`, `poses` 3×4×n object-to-camera in metres). The meshes
(YCB `textured.obj`, cm) share the ground-truth object frame.

Why an up-axis search: `ObjectFitter.first` searches an *upright* family (model z = world up, camera
pitch/roll relative to it). That holds for the mug, whose model z is its axis, but the foam brick
stands on its end (model +y up in sequence 0000), so its true pose lies outside the family. YCB-V has
real depth and the camera looks down at a table, so we estimate the table plane from the depth map,
measure how high the object rises above it, keep the model axes (±x, ±y, ±z) whose extent matches
that height, and run the unchanged fitter once per kept axis on the model re-expressed with that axis
as z; the fit with the lowest loss wins. `up="z"` (model z assumed up) and `up="free"` (no prior:
full-rotation DE) are the alternatives the benchmark compares.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from video2robo.pose import bop

MESH_DIRS = {"025_mug": "ycb_025_mug", "061_foam_brick": "ycb_061_foam_brick"}


# --- data --------------------------------------------------------------------------------------------
@dataclass
class YcbvFrame:
    """One RGB-D frame. K is in the project's pixel convention (pixel centres at +0.5)."""

    index: int
    rgb: np.ndarray  # (H, W, 3) uint8
    depth: np.ndarray  # (H, W) float32 metres, 0 = no data
    label: np.ndarray  # (H, W) int class index (1-based into classes.txt), 0 = background
    K: np.ndarray
    poses: dict[str, np.ndarray]  # class name → T_cam_obj (4x4)
    class_ids: dict[str, int]

    def mask(self, name: str) -> np.ndarray:
        return self.label == self.class_ids[name]

    def box(self, name: str) -> tuple[float, float, float, float]:
        """Bounding box (x0, y0, x1, y1) of the ground-truth label mask: the stand-in for a user's prompt."""
        ys, xs = np.nonzero(self.mask(name))
        return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def load_frame(seq_dir: Path | str, index: int) -> YcbvFrame:
    import cv2
    import scipy.io

    seq_dir = Path(seq_dir)
    stem = seq_dir / f"{index:06d}"
    names = (seq_dir.parents[1] / "classes.txt").read_text().split()
    meta = scipy.io.loadmat(f"{stem}-meta.mat")
    rgb = cv2.imread(f"{stem}-color.png", cv2.IMREAD_COLOR)[:, :, ::-1].copy()
    depth = cv2.imread(f"{stem}-depth.png", cv2.IMREAD_UNCHANGED).astype(np.float32) / float(meta["factor_depth"].squeeze())
    label = cv2.imread(f"{stem}-label.png", cv2.IMREAD_UNCHANGED).astype(np.int32)
    K = np.array(meta["intrinsic_matrix"], dtype=np.float64)
    K[0, 2] += 0.5  # YCB-V intrinsics put pixel centres at integers; ours at +0.5
    K[1, 2] += 0.5
    ids = np.asarray(meta["cls_indexes"]).ravel().astype(int)
    poses, class_ids = {}, {}
    for k, cid in enumerate(ids):
        T = np.eye(4)
        T[:3, :] = meta["poses"][:, :, k]
        poses[names[cid - 1]] = T
        class_ids[names[cid - 1]] = int(cid)
    return YcbvFrame(index, rgb, depth, label, K, poses, class_ids)


@dataclass
class MeshObject:
    """A ground-truth mesh (metres, GT object frame) with what the metrics need."""

    name: str
    path: Path
    vertices: np.ndarray
    faces: np.ndarray
    diameter: float
    symmetries: np.ndarray = field(default_factory=lambda: np.eye(4)[None])  # (S, 4, 4), identity first

    def gaussians(self, num: int = 6000):
        from video2robo.reconstruct import model_from_file

        return model_from_file(self.path, 0.01, num_gaussians=num)


def load_mesh_object(mesh_root: Path | str, name: str) -> MeshObject:
    import trimesh
    from scipy.spatial import ConvexHull
    from scipy.spatial.distance import pdist

    path = Path(mesh_root) / MESH_DIRS[name] / "textured.obj"
    mesh = trimesh.load(str(path), force="mesh", process=False)
    v = np.asarray(mesh.vertices, dtype=np.float64) * 0.01
    diameter = float(pdist(v[ConvexHull(v).vertices]).max())
    return MeshObject(name, path, v, np.asarray(mesh.faces, dtype=np.int64), diameter, shape_symmetries(v, diameter))


def shape_symmetries(vertices: np.ndarray, diameter: float, tol: float = 0.02) -> np.ndarray:
    """Identity plus the half-turns about the bounding-box axes that map the mesh onto itself (mean
    nearest-vertex distance < tol·diameter). Shape only, as the metrics need: the mug's handle leaves
    it none; the foam brick, a box, gets its half-turns. Returns (S, 4, 4)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(vertices)
    centre = 0.5 * (vertices.min(0) + vertices.max(0))
    out = [np.eye(4)]
    for axis in range(3):
        R = -np.eye(3)
        R[axis, axis] = 1.0
        T = np.eye(4)
        T[:3, :3], T[:3, 3] = R, centre - R @ centre
        d, _ = tree.query(vertices @ R.T + T[:3, 3])
        if d.mean() < tol * diameter:
            out.append(T)
    return np.stack(out)


# --- depth rendering of the mesh (VSD) ------------------------------------------------------------
def _raster_kernel():
    from numba import njit

    @njit(cache=True)
    def raster(uv, z, faces, out):
        h, w = out.shape
        for f in range(faces.shape[0]):
            a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
            if z[a] <= 1e-4 or z[b] <= 1e-4 or z[c] <= 1e-4:
                continue
            x0, y0, x1, y1, x2, y2 = uv[a, 0], uv[a, 1], uv[b, 0], uv[b, 1], uv[c, 0], uv[c, 1]
            area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
            if abs(area) < 1e-12:
                continue
            cmin = max(math.floor(min(x0, x1, x2) - 0.5), 0)
            cmax = min(math.ceil(max(x0, x1, x2) - 0.5), w - 1)
            rmin = max(math.floor(min(y0, y1, y2) - 0.5), 0)
            rmax = min(math.ceil(max(y0, y1, y2) - 0.5), h - 1)
            for r in range(rmin, rmax + 1):
                py = r + 0.5
                for col in range(cmin, cmax + 1):
                    px = col + 0.5
                    w0 = ((x1 - px) * (y2 - py) - (x2 - px) * (y1 - py)) / area
                    w1 = ((x2 - px) * (y0 - py) - (x0 - px) * (y2 - py)) / area
                    w2 = 1.0 - w0 - w1
                    if w0 < 0 or w1 < 0 or w2 < 0:
                        continue
                    d = 1.0 / (w0 / z[a] + w1 / z[b] + w2 / z[c])  # perspective-correct depth
                    if out[r, col] == 0 or d < out[r, col]:
                        out[r, col] = d

    return raster


_RASTER = None


def render_depth(obj: MeshObject, T_cam_obj: np.ndarray, K: np.ndarray, width: int, height: int) -> np.ndarray:
    """z-depth (H, W) float64 of the mesh alone at a pose (0 where absent): a z-buffered rasteriser."""
    global _RASTER
    if _RASTER is None:
        _RASTER = _raster_kernel()
    p = obj.vertices @ T_cam_obj[:3, :3].T + T_cam_obj[:3, 3]
    z = p[:, 2].copy()
    uv = (p[:, :2] / np.maximum(z, 1e-6)[:, None]) @ K[:2, :2].T + K[:2, 2]
    out = np.zeros((height, width))
    _RASTER(np.ascontiguousarray(uv), z, obj.faces, out)
    return out


# --- table plane and up-axis candidates -----------------------------------------------------------
def table_plane(depth: np.ndarray, K: np.ndarray, exclude: np.ndarray, iters: int = 300, tol: float = 0.006,
                seed: int = 0) -> tuple[np.ndarray, float]:
    """RANSAC plane n·p + d = 0 (camera frame) through the depth points outside `exclude`, with n
    pointing towards the camera (up, for a camera above a table). The dominant plane of a tabletop
    view is the table."""
    ys, xs = np.nonzero((depth > 0) & ~exclude)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(xs), size=min(len(xs), 20000), replace=False)
    ys, xs = ys[pick], xs[pick]
    z = depth[ys, xs].astype(np.float64)
    pts = np.stack([(xs + 0.5 - K[0, 2]) / K[0, 0] * z, (ys + 0.5 - K[1, 2]) / K[1, 1] * z, z], 1)
    best, best_n, best_d = -1, None, 0.0
    for _ in range(iters):
        a, b, c = pts[rng.choice(len(pts), 3, replace=False)]
        n = np.cross(b - a, c - a)
        if np.linalg.norm(n) < 1e-9:
            continue
        n /= np.linalg.norm(n)
        count = int((np.abs(pts @ n - n @ a) < tol).sum())
        if count > best:
            best, best_n, best_d = count, n, -n @ a
    inl = np.abs(pts @ best_n + best_d) < tol
    centroid = pts[inl].mean(0)  # least-squares refit on the inliers
    n = np.linalg.svd(pts[inl] - centroid)[2][-1]
    d = -n @ centroid
    if d < 0:  # camera (origin) on the positive side: n·0 + d > 0
        n, d = -n, -d
    return n, float(d)


def object_height(depth: np.ndarray, K: np.ndarray, mask: np.ndarray, plane: tuple[np.ndarray, float]) -> float:
    """How far the object's observed surface rises above the table (95th percentile, metres)."""
    ys, xs = np.nonzero(mask & (depth > 0))
    z = depth[ys, xs].astype(np.float64)
    pts = np.stack([(xs + 0.5 - K[0, 2]) / K[0, 0] * z, (ys + 0.5 - K[1, 2]) / K[1, 1] * z, z], 1)
    n, d = plane
    return float(np.percentile(pts @ n + d, 95)) if len(pts) else float("nan")


def up_candidates(vertices: np.ndarray, height: float, rel_tol: float = 0.1) -> list[np.ndarray]:
    """Rotations R_up_obj (model → a frame whose z is the candidate up axis) for the model axes whose
    extent is within rel_tol of the closest match to the observed height; both signs of each."""
    ext = np.ptp(vertices, axis=0)
    err = np.abs(ext - height) / ext
    keep = [a for a in range(3) if err[a] <= err.min() + rel_tol] if np.isfinite(height) else [0, 1, 2]
    out = []
    for a in keep:
        for s in (1.0, -1.0):
            up = np.zeros(3)
            up[a] = s
            out.append(_rotation_to_z(up))
    return out


def _rotation_to_z(u: np.ndarray) -> np.ndarray:
    """A rotation R with R u = +z (a quarter or half turn for axis-aligned u)."""
    if np.allclose(u, [0, 0, 1]):
        return np.eye(3)
    if np.allclose(u, [0, 0, -1]):
        return np.diag([1.0, -1.0, -1.0])
    axis = np.cross(u, [0, 0, 1.0])
    axis /= np.linalg.norm(axis)
    ang = math.acos(float(np.clip(u[2], -1, 1)))
    Kx = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(ang) * Kx + (1 - math.cos(ang)) * Kx @ Kx


# --- fitting -------------------------------------------------------------------------------------------
@dataclass
class FitOutcome:
    T_cam_obj: np.ndarray
    seconds: float
    loss: float
    candidates: int
    up_axis: str  # which model axis the chosen fit stood upright on, e.g. "+y"; "free" without a prior
    fitter: object = None  # the ObjectFitter that produced it (for tracking with `next`)
    T_up_obj: np.ndarray = field(default_factory=lambda: np.eye(4))


def _axis_name(R_up_obj: np.ndarray) -> str:
    col = R_up_obj[2]  # the model axis mapped to z
    a = int(np.argmax(np.abs(col)))
    return ("+" if col[a] > 0 else "-") + "xyz"[a]


def fit_pose(model, frame: YcbvFrame, mask: np.ndarray, cfg, up: str = "table", use_depth: bool = True,
             obj: MeshObject | None = None) -> FitOutcome:
    """One independent first-frame fit (DE over the upright family + Adam) of a metric model.

    up: "table" (up-axis candidates from the depth table plane, see module docstring), "z" (the model's
    z assumed up, as the fitter does by default) or "free" (no orientation prior: full-rotation DE)."""
    from dataclasses import replace

    from video2robo.pose.fit import FrameInput, ObjectFitter

    t0 = time.perf_counter()
    rgb = frame.rgb.astype(np.float32) / 255
    depth = frame.depth if use_depth else None
    if up == "free":
        rotations, cfg = [np.eye(3)], replace(cfg, upright_prior=False)
    elif up == "z":
        rotations, cfg = [np.eye(3)], replace(cfg, upright_prior=True)
    elif up == "table":
        if obj is None:
            raise ValueError("up='table' needs the mesh object (its extents)")
        plane = table_plane(frame.depth, frame.K, frame.label > 0)
        rotations, cfg = up_candidates(obj.vertices, object_height(frame.depth, frame.K, mask, plane)), replace(cfg, upright_prior=True)
    else:
        raise ValueError(f"unknown up mode {up!r}")
    best = None
    w = cfg.weights
    for R in rotations:
        T_up_obj = np.eye(4)
        T_up_obj[:3, :3] = R
        fitter = ObjectFitter(model.transform(T_up_obj) if up == "table" else model, frame.K, cfg, scale_free=False)
        r = fitter.first(FrameInput(rgb, mask, depth))
        loss = sum(getattr(w, k) * v for k, v in r.losses.items())
        if best is None or loss < best[0]:
            best = (loss, r.T_cam_obj @ T_up_obj, fitter, T_up_obj)
    loss, T, fitter, T_up_obj = best
    name = _axis_name(T_up_obj[:3, :3]) if up != "free" else "free"
    return FitOutcome(T, time.perf_counter() - t0, float(loss), len(rotations), name, fitter, T_up_obj)


def track_pose(outcome: FitOutcome, frame: YcbvFrame, mask: np.ndarray, use_depth: bool = True) -> tuple[np.ndarray, float]:
    """Continue a first-frame fit into the next frame with `ObjectFitter.next` (no point tracks)."""
    from video2robo.pose.fit import FrameInput

    t0 = time.perf_counter()
    r = outcome.fitter.next(FrameInput(frame.rgb.astype(np.float32) / 255, mask, frame.depth if use_depth else None))
    return r.T_cam_obj @ outcome.T_up_obj, time.perf_counter() - t0


def grabcut_mask(frame: YcbvFrame, name: str) -> np.ndarray:
    """Our prompt segmenter (GrabCut) given the bounding box of the ground-truth label mask."""
    from video2robo.perception.grabcut import GrabCutSegmenter
    from video2robo.perception.prompts import ObjectPrompt

    return GrabCutSegmenter().segment(frame.rgb, ObjectPrompt(name, box=frame.box(name)))


# --- scoring ----------------------------------------------------------------------------------------
def pose_errors(T_est: np.ndarray, T_gt: np.ndarray, obj: MeshObject, frame: YcbvFrame, use_vsd: bool = True) -> dict:
    """BOP recalls (MSSD, MSPD, VSD against the real depth) and plain errors of one estimate.

    te_mm: translation error of the object origin; re_deg: rotation error, the smallest over the
    shape symmetries (so a brick turned by its symmetry half-turn counts as right)."""
    h, w = frame.depth.shape
    syms = obj.symmetries
    out = {"MSSD": bop.recall_mssd(bop.mssd(T_est, T_gt, obj.vertices, syms), obj.diameter),
           "MSPD": bop.recall_mspd(bop.mspd(T_est, T_gt, frame.K, obj.vertices, syms), w), "VSD": float("nan")}
    out["mssd_mm"] = 1000 * bop.mssd(T_est, T_gt, obj.vertices, syms)
    if use_vsd:
        d_est = render_depth(obj, T_est, frame.K, w, h)
        d_gt = render_depth(obj, T_gt, frame.K, w, h)
        out["VSD"] = bop.recall_vsd(bop.vsd(d_est, d_gt, frame.depth.astype(np.float64), frame.K, obj.diameter))
    out["te_mm"] = 1000 * float(np.linalg.norm(T_est[:3, 3] - T_gt[:3, 3]))
    angles = []
    for S in syms:
        R = (T_gt @ S)[:3, :3].T @ T_est[:3, :3]  # angle from the chord: accurate near 0 (acos is not)
        angles.append(math.degrees(2 * math.asin(min(1.0, float(np.linalg.norm(R - np.eye(3))) / math.sqrt(8)))))
    out["re_deg"] = min(angles)
    return out
