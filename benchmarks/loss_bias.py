"""Where each pose-fitting loss is lowest along the viewing ray, from the true pose (synthetic ground truth).

Reads the folders `benchmarks/pose_accuracy.py` leaves in its --work (TASK/video with the ground truth,
TASK/demo_MODEL with the parse: its object models and the masks its fits used). For every --step-th
processed frame and object, the model is placed at the true pose and slid along its viewing ray
(±--reach, 5 mm steps, true rotation kept), and each loss of `pose.losses` is evaluated on the
tracking crop: the silhouette (mask) term, the colour (rgb) term and the weighted total of
`FitConfig.weights`, on the true visible masks (the other objects' pixels ignored), and the silhouette
term and the total on the masks the parse used (with the pixels it ignored). The table gives the mean offset of each minimum from
the true pose (positive: beyond it, away from the camera) and the mean of its size, in centimetres. A
loss whose minimum lies beyond the true pose on true masks pulls every tracked fit away from the
camera however good the masks are; the used-mask column adds the masks' own errors
(`benchmarks/mask_accuracy.py` says which). Depth along the ray is what a silhouette fit observes
worst, and the task segment (source and target within 3 cm) reads it directly.

    python benchmarks/loss_bias.py --work pose_accuracy_runs [--tasks drum sweep] [--step 6]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from parsed_runs import add_arguments, task_dirs

TERMS = ("mask", "rgb", "total", "mask, used masks", "total, used masks")


def bias_rows(task_dir: Path, model: str, step: int, reach: float) -> list[dict]:
    """One row per object of one parsed task folder: per term, the minima's offsets along the ray (m)."""
    import torch

    from video2robo.gaussians.ply import load_ply
    from video2robo.pose.config import FitConfig
    from video2robo.pose.crop import crop_around
    from video2robo.pose.fit import ObjectFitter
    from video2robo.pose.losses import Observation, total_loss
    from video2robo.synth.output import read_gt
    from video2robo.video.reader import read_video

    demo = task_dir / f"demo_{model}"
    _, gt = read_gt(task_dir / "video")
    info = json.loads((demo / "demo.json").read_text())
    idx = np.asarray(info["frame_indices"])
    K, w, h = np.asarray(info["K"]), int(info["width"]), int(info["height"])
    frames = read_video(task_dir / "video" / "video.mp4", max_frames=int(idx.max()) + 1)[0]
    if frames.shape[1:3] != (h, w):
        raise SystemExit(f"{task_dir}: the parse ran at {w}x{h}, the video is {frames.shape[2]}x{frames.shape[1]}; "
                         "this script reads only parses at the video's own size")
    offsets = np.arange(-reach, reach + 1e-9, 0.005)
    cfg = FitConfig()
    rows = []
    for name, label in zip(gt["object_names"], gt["object_labels"]):
        fitter = ObjectFitter(load_ply(demo / "objects" / f"{name}.ply"), K, cfg)
        fit = np.load(demo / "work" / f"fit_{name}.npz")
        used = np.unpackbits(fit["used_masks"], axis=-1, count=w).astype(bool)
        ignored = np.unpackbits(fit["ignored_masks"], axis=-1, count=w).astype(bool) if "ignored_masks" in fit else None
        found: dict[str, list[float]] = {t: [] for t in TERMS}
        for k in range(0, len(idx), step):
            f = int(idx[k])
            visible = gt["masks"][f] == label
            if visible.sum() < 50:
                continue
            T_true = gt[f"T_cam_{name}"][f]
            ray = T_true[:3, 3] / np.linalg.norm(T_true[:3, 3])
            rgb = frames[f].astype(np.float32) / 255
            views = {"true": (visible, (gt["masks"][f] != 0) & ~visible)}
            if ignored is not None and used[k].sum() >= 16:
                views["used"] = (used[k], ignored[k])
            values = {t: [] for t in TERMS}
            for view, (mask, ignore) in views.items():
                crop = crop_around(mask, cfg.crop_size)
                cam = crop.camera(K)
                obs = Observation(torch.from_numpy(np.ascontiguousarray(crop.image(rgb))),
                                  torch.from_numpy(crop.image(mask).astype(np.float32)),
                                  ignore=torch.from_numpy(crop.image(ignore).astype(np.float32)))
                K_crop = torch.as_tensor(cam.K, dtype=torch.float32)
                for d in offsets:
                    T = T_true.copy()
                    T[:3, 3] += d * ray
                    T_t = torch.as_tensor(T, dtype=torch.float32)
                    with torch.no_grad():
                        total, parts = total_loss(fitter._render(fitter.model, T_t, cam), T_t, K_crop, obs, cfg.weights,
                                                  fitter.size, use_tracks=False)
                    if view == "true":
                        values["mask"].append(parts["mask"])
                        values["rgb"].append(parts["rgb"])
                        values["total"].append(float(total))
                    else:
                        values["mask, used masks"].append(parts["mask"])
                        values["total, used masks"].append(float(total))
            for t, v in values.items():
                if v:
                    found[t].append(float(offsets[int(np.argmin(v))]))
        rows.append(dict(task=task_dir.name, object=str(name), n=len(found["mask"]),
                         **{t: np.asarray(v) for t, v in found.items()}))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(ap)
    ap.add_argument("--step", type=int, default=6, help="every step-th processed frame")
    ap.add_argument("--reach", type=float, default=0.1, help="metres either side of the true pose")
    args = ap.parse_args()
    rows = []
    for task_dir in task_dirs(args):
        rows += bias_rows(task_dir, args.model, args.step, args.reach)
    print(f"\nminimum of each loss along the viewing ray from the true pose ({args.model} models; mean offset, "
          f"+ = beyond the true pose, and mean |offset|, cm; every {args.step}th processed frame)")
    print("| task | object | frames | " + " | ".join(TERMS) + " |")
    print("|---|---|---|" + "---|" * len(TERMS))
    for r in rows:
        cells = [f"{100 * r[t].mean():+.1f} ({100 * np.abs(r[t]).mean():.1f})" if len(r[t]) else "—" for t in TERMS]
        print(f"| {r['task']} | {r['object']} | {r['n']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
