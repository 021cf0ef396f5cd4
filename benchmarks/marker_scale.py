"""Object sizes from an ArUco marker on the table (`parse --marker`), against the synthetic ground truth.

Reads the synthetic videos `benchmarks/pose_accuracy.py` leaves in its --work (TASK/video: first frame,
ground truth, meshes). Into each first frame a printed marker (--side, default 8 cm, with its white
quiet zone) is drawn flat on the table in front of the objects, behind whatever stands in front of it;
parse's marker step then finds its pose (perception.marker), lifts each object's weight-free single-view
model with the marker's up and sizes it to stand on the marker's table (parse.models.extent_on_marker,
parse.world.scale_to_plane). The table gives the marker's own pose error, and per object the lifted
model's depth (the distance of its centre from the camera, which the size sets: one view fixes an
object's size only up to its distance) and height (its extent along the table's up) against the truth,
and its largest extent against the object's diameter (what the single-view benchmark passes as --size).

    python benchmarks/marker_scale.py --work pose_accuracy_runs [--tasks pour stack] [--side 0.08]
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

import numpy as np
from marker_video import free_spot


def marker_rows(task_dir: Path, side: float) -> list[dict]:

    import trimesh

    from video2robo.parse.models import extent_on_marker
    from video2robo.perception.marker import detect_marker, paste_marker
    from video2robo.reconstruct.backends import get_model_builder
    from video2robo.synth.output import read_gt
    from video2robo.video import read_video

    video = task_dir / "video"
    summary, gt = read_gt(video)
    K = np.asarray(gt["K"], np.float64)
    first = read_video(video / "video.mp4", max_frames=1)[0][0]
    T_world_marker = free_spot(gt, K, side)
    if T_world_marker is None:
        print(f"{task_dir.name}: no free spot on the table in view for a {side} m marker")
        return []
    T_cam_marker = np.linalg.inv(gt["T_world_cam"][0]) @ T_world_marker
    image = paste_marker(first, K, T_cam_marker, side, marker_id=1, keep=gt["masks"][0] != 0)
    found = detect_marker(image, K, side)
    if found is None:
        print(f"{task_dir.name}: the pasted marker was not found")
        return []
    marker = dict(task=task_dir.name, marker_m=float(np.linalg.norm(found.T_cam_marker[:3, 3] - T_cam_marker[:3, 3])),
                  marker_depth=float(np.linalg.norm(T_cam_marker[:3, 3])),
                  up_deg=float(np.degrees(np.arccos(np.clip(found.up @ T_cam_marker[:3, 2], -1, 1)))))
    up_world = gt["T_world_cam"][0][:3, :3] @ found.up  # the found up, in the true world (z up)
    rows = []
    for o in summary["objects"]:
        mask = gt["masks"][0] == o["label"]
        build = functools.partial(get_model_builder("single-view").build, first.astype(np.float32) / 255, mask, K,
                                  up=found.up)
        warnings: list[str] = []
        extent = extent_on_marker(build, found, o["name"], warnings)
        row = dict(marker, object=o["name"], diameter=float(o["diameter"]), extent=np.nan, depth_ratio=np.nan,
                   height=np.nan, true_height=np.nan)
        vertices = np.asarray(trimesh.load(video / o["mesh"], force="mesh").vertices)
        T_true = gt[f"T_cam_{o['name']}"][0]
        true_points = vertices @ T_true[:3, :3].T + T_true[:3, 3]
        row["true_height"] = float(np.ptp(true_points @ T_cam_marker[:3, 2]))
        if extent is not None:
            lifted = build(extent)
            T_cam_obj = lifted.T_cam_obj
            points = lifted.gaussians.means.numpy().astype(np.float64) @ T_cam_obj[:3, :3].T + T_cam_obj[:3, 3]
            row.update(extent=float(extent), height=float(np.ptp(points @ found.up)),
                       depth_ratio=float(np.linalg.norm(points.mean(0)) / np.linalg.norm(true_points.mean(0))))
        row["up_world_deg"] = float(np.degrees(np.arccos(np.clip(up_world[2], -1, 1))))
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default="pose_accuracy_runs")
    ap.add_argument("--tasks", nargs="*", default=None, help="default: every task with a video in --work")
    ap.add_argument("--side", type=float, default=0.08, help="the marker's side, metres")
    args = ap.parse_args()
    work = Path(args.work)
    tasks = args.tasks or sorted(p.parent.parent.name for p in work.glob("*/video/gt.npz"))
    rows = []
    for task in tasks:
        if not (work / task / "video" / "gt.npz").is_file():
            print(f"{task}: no video in {work / task / 'video'}; run benchmarks/pose_accuracy.py first")
            continue
        rows += marker_rows(work / task, args.side)
    if not rows:
        return
    print(f"\nsingle-view models sized by a {args.side:g} m ArUco marker on the table (first frame; depth: of the "
          "model's centre over the true one's; heights along the table's up, cm)")
    print("| task | marker error mm (at depth m) | marker up error ° | object | depth ratio | height cm (true) | "
          "largest extent cm (diameter) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['task']} | {r['marker_m'] * 1000:.1f} ({r['marker_depth']:.2f}) | {r['up_deg']:.2f} | {r['object']} | "
              f"{r['depth_ratio']:.3f} | {r['height'] * 100:.1f} ({r['true_height'] * 100:.1f}) | "
              f"{r['extent'] * 100:.1f} ({r['diameter'] * 100:.1f}) |")
    ratios = np.array([r["depth_ratio"] for r in rows])
    print(f"\ndepth ratio over {np.isfinite(ratios).sum()} of {len(rows)} objects: median {np.nanmedian(ratios):.3f}, "
          f"mean |1 - ratio| {np.nanmean(np.abs(1 - ratios)):.3f}")


if __name__ == "__main__":
    main()
