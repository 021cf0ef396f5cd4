"""A printed ArUco marker drawn onto the table of a synthetic video (benchmarks/marker_scale.py, and
pose_accuracy.py --marker): flat on the table (z = 0) in front of the objects, in view and clear of them
at the first frame, behind whatever stands in front of it in every frame (the ground truth's masks: the
objects and the hand)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def free_spot(gt: dict, K: np.ndarray, side: float) -> np.ndarray | None:
    """T_world_marker of a marker lying on the table (z = 0) in view and clear of every object at the first
    frame: the candidate nearest the camera's line of sight among those whose sheet lies inside the image
    with a margin and covers no object pixel."""
    from video2robo.perception.marker import printed_sheet

    h, w = gt["masks"].shape[1:]
    T_cam_world = np.linalg.inv(gt["T_world_cam"][0])
    objects = gt["masks"][0] != 0
    sheet = printed_sheet(side)[1]
    best, best_cost = None, np.inf
    centre = np.array([w / 2, h / 2])
    for x in np.arange(-0.5, 0.51, 0.02):
        for y in np.arange(-0.5, 0.51, 0.02):
            p = (sheet + [x, y, 0.0]) @ T_cam_world[:3, :3].T + T_cam_world[:3, 3]
            if (p[:, 2] <= 0.05).any():
                continue
            uv = (p @ K.T)[:, :2] / p[:, 2:3]
            lo, hi = uv.min(0), uv.max(0)
            if (lo < 8).any() or hi[0] > w - 8 or hi[1] > h - 8:
                continue
            r0, r1, c0, c1 = int(lo[1]) - 4, int(hi[1]) + 5, int(lo[0]) - 4, int(hi[0]) + 5
            if objects[max(r0, 0):r1, max(c0, 0):c1].any():
                continue
            cost = np.linalg.norm(uv.mean(0) - centre)
            if cost < best_cost:
                best, best_cost = np.array([x, y]), cost
    if best is None:
        return None
    T = np.eye(4)
    T[:2, 3] = best
    return T


def marked_video(video: Path, out: Path, side: float, crf: int = 23) -> Path:
    """`out`: a copy of the synthetic capture folder `video` whose frames show the marker (id 1, `side`
    metres) at `free_spot`, its ground truth linked; made once. Raises SystemExit when no spot is free."""
    from video2robo.perception.marker import paste_marker
    from video2robo.synth.output import read_gt, write_video
    from video2robo.video import read_video

    if (out / "video.mp4").is_file():
        return out
    _, gt = read_gt(video)
    K = np.asarray(gt["K"], np.float64)
    T_world_marker = free_spot(gt, K, side)
    if T_world_marker is None:
        raise SystemExit(f"{video}: no free spot on the table in view for a {side} m marker")
    frames, fps = read_video(video / "video.mp4")
    marked = [paste_marker(f, K, np.linalg.inv(gt["T_world_cam"][i]) @ T_world_marker, side, marker_id=1,
                           keep=gt["masks"][i] != 0) for i, f in enumerate(frames)]
    out.mkdir(parents=True, exist_ok=True)
    for entry in video.iterdir():
        if entry.name != "video.mp4" and not (out / entry.name).exists():
            (out / entry.name).symlink_to(entry.resolve())
    write_video(out / "video.mp4", np.stack(marked), fps, crf=crf)
    return out
