"""Score estimated poses against a synth ground-truth folder with the BOP metrics (`pose.bop`).

Used by `video2robo eval-poses`. One result row per (video, object): number of evaluated instances
(frames where the object is at least 10 % visible, as in BOP) and AR, AR_MSSD, AR_MSPD, AR_VSD.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from video2robo.errors import UserError
from video2robo.synth.output import is_capture_folder, read_gt

MIN_VISIBLE_FRACTION = 0.1


def find_videos(pred: Path, gt: Path) -> list[tuple[str, Path, Path]]:
    """(video name, pred folder, gt folder) for a single capture folder or a folder of them."""
    pred, gt = Path(pred), Path(gt)
    if not gt.is_dir():
        raise UserError(f"ground-truth folder {gt} does not exist; pass a `video2robo synth` output folder")
    if not pred.is_dir():
        raise UserError(f"prediction folder {pred} does not exist; pass a folder with poses.npz")
    if is_capture_folder(gt):
        return [(gt.name, pred, gt)]
    subs = sorted(p for p in gt.iterdir() if p.is_dir() and is_capture_folder(p))
    if not subs:
        raise UserError(f"{gt} holds no synth output (gt.npz + gt.json), nor do its sub-folders")
    return [(p.name, pred / p.name, p) for p in subs]


def predicted_frames(pred_dir: Path, n_frames: int) -> np.ndarray:
    """Video frames the prediction covers: all, or a demo folder's `frame_indices` (parse --stride)."""
    import json

    info = Path(pred_dir) / "demo.json"
    if info.is_file():
        idx = np.asarray(json.loads(info.read_text()).get("frame_indices", []), int)
        if len(idx) and idx.max() >= n_frames:
            raise UserError(f"{info} covers video frame {idx.max()} but the ground truth has {n_frames} frames; "
                            "compare against the synth folder the video came from")
        if len(idx):
            return idx
    return np.arange(n_frames)


def load_predictions(pred_dir: Path, names: list[str], n_frames: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name → (T_cam_obj (N,4,4), valid (N,)) over all N video frames; objects without estimates, and
    frames a subsampled demo folder skipped, are invalid."""
    frames = predicted_frames(pred_dir, n_frames)
    m = len(frames)
    path = Path(pred_dir) / "poses.npz"
    if not path.is_file():
        raise UserError(f"no predictions at {path}; write poses.npz with T_cam_<object> arrays (N,4,4)")
    out = {}
    with np.load(path) as z:
        for name in names:
            key = f"T_cam_{name}"
            if key not in z.files:
                out[name] = (np.tile(np.eye(4), (n_frames, 1, 1)), np.zeros(n_frames, bool))
                continue
            T_m = np.asarray(z[key], dtype=np.float64)
            if T_m.shape != (m, 4, 4):
                raise UserError(f"{path}: {key} has shape {T_m.shape}, expected ({m}, 4, 4) (one pose per predicted frame)")
            valid_m = np.asarray(z[f"valid_{name}"], bool) if f"valid_{name}" in z.files else np.ones(m, bool)
            if valid_m.shape != (m,):
                raise UserError(f"{path}: valid_{name} has shape {valid_m.shape}, expected ({m},)")
            T = np.tile(np.eye(4), (n_frames, 1, 1))
            valid = np.zeros(n_frames, bool)
            T[frames], valid[frames] = T_m, valid_m & np.isfinite(T_m).all(axis=(1, 2))
            out[name] = (T, valid)
    return out


def evaluate_folder(pred_dir: Path, gt_dir: Path, video: str = "", frame_step: int = 1, use_vsd: bool = True,
                    progress: bool = True) -> list[dict]:
    """Per-object BOP recalls for one video (see module docstring)."""
    from tqdm import tqdm

    from video2robo.objects.asset import load_asset
    from video2robo.pose import bop

    summary, gt = read_gt(gt_dir)
    K, width, height = gt["K"], int(gt["width"]), int(gt["height"])
    n = len(gt["T_world_cam"])
    infos = summary["objects"]
    assets = [load_asset(Path(gt_dir) / o["mesh"], o["name"], o) for o in infos]
    preds = load_predictions(pred_dir, [o["name"] for o in infos], n)
    depth_renderer = None
    if use_vsd:
        from video2robo.synth.model_depth import ModelDepthRenderer

        depth_renderer = ModelDepthRenderer(assets, K, width, height)
    rows = []
    try:
        for info, asset in zip(infos, assets):
            name, label, diam = info["name"], info["label"], float(info["diameter"])
            syms = bop.symmetry_transforms(asset.symmetries_discrete, asset.symmetries_continuous)
            pts = asset.vertices
            T_gt_all, (T_est_all, valid) = gt[f"T_cam_{name}"], preds[name]
            recalls = []
            for i in tqdm(predicted_frames(pred_dir, n)[::frame_step], desc=f"eval {video} {name}", unit="frame", disable=not progress):
                visible = int(np.count_nonzero(gt["masks"][i] == label))
                d_gt = depth_renderer.depth(name, T_gt_all[i]) if depth_renderer else None
                full = int(np.count_nonzero(d_gt > 0)) if d_gt is not None else None
                if visible == 0 or (full is not None and visible < MIN_VISIBLE_FRACTION * full):
                    continue
                if not valid[i]:
                    recalls.append({"MSSD": 0.0, "MSPD": 0.0, "VSD": 0.0 if use_vsd else float("nan")})
                    continue
                T_est, T_gt = T_est_all[i], T_gt_all[i]
                r = {"MSSD": bop.recall_mssd(bop.mssd(T_est, T_gt, pts, syms), diam),
                     "MSPD": bop.recall_mspd(bop.mspd(T_est, T_gt, K, pts, syms), width), "VSD": float("nan")}
                if depth_renderer is not None:
                    d_est = depth_renderer.depth(name, T_est)
                    r["VSD"] = bop.recall_vsd(bop.vsd(d_est, d_gt, gt["depth"][i], K, diam))
                recalls.append(r)
            rows.append({"video": video, "object": name, "role": info.get("role", ""), **_ar(recalls, use_vsd)})
    finally:
        if depth_renderer is not None:
            depth_renderer.close()
    return rows


def _ar(recalls: list[dict], use_vsd: bool) -> dict:
    from video2robo.pose import bop

    if use_vsd:
        return bop.average_recall(recalls)
    out = {f"AR_{k}": float(np.mean([r[k] for r in recalls])) if recalls else float("nan") for k in ("MSSD", "MSPD")}
    out["AR_VSD"] = float("nan")
    out["AR"] = (out["AR_MSSD"] + out["AR_MSPD"]) / 2
    out["n"] = len(recalls)
    return out
