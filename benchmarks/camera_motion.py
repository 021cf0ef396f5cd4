"""Accuracy of the camera's motion tracked from the table (perception.camera_motion) on synthetic
hand-held videos: the tracker gets the table plane from the target's true first-frame pose and the true
object masks to keep off, as parse gets them from its fits. Prints per task the error of the camera's
motion relative to the first frame and of where the resting target then appears (the quantity `parse`
relies on), and the time per frame.

    python benchmarks/camera_motion.py --work pose_accuracy_runs   # reuses pose_accuracy's videos
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def run_task(task: str, args) -> dict:
    import cv2

    from video2robo.geometry.so3 import rotation_angle
    from video2robo.objects.asset import load_asset
    from video2robo.perception.camera_motion import CameraTracker, table_plane
    from video2robo.synth import CaptureSettings, capture, write_capture
    from video2robo.synth.output import read_gt
    from video2robo.video import read_video

    video = Path(args.work) / task / "video"
    if not (video / "gt.npz").is_file():  # the same video as benchmarks/pose_accuracy.py (hard setting)
        height = args.width * 9 // 16
        cap = capture(CaptureSettings(task=task, seed=args.seed, width=args.width, height=height - height % 2,
                                      handheld=True, hand=True, blur=True, fov_x_deg=65.0), progress=False)
        write_capture(cap, video, crf=23, overwrite=True)
    summary, gt = read_gt(video)
    frames, _ = read_video(video / "video.mp4", stride=args.stride)
    target = next(o for o in summary["objects"] if o.get("role") == "target")
    asset = load_asset(video / target["mesh"], target["name"], target)
    T_cam_target0 = gt[f"T_cam_{target['name']}"][0]
    tracker = CameraTracker(gt["K"], *table_plane(T_cam_target0, asset.vertices))
    cam_t, cam_r, tgt_t, inliers = [], [], [], []
    t0 = time.perf_counter()
    for j, frame in enumerate(frames):
        i = j * args.stride
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        objects = gt["masks"][i] > 0
        if j == 0:
            tracker.start(gray, objects)
            continue
        C = tracker.advance(gray, objects)
        C_true = np.linalg.inv(gt["T_world_cam"][i]) @ gt["T_world_cam"][0]
        cam_t.append(np.linalg.norm(C[:3, 3] - C_true[:3, 3]))
        cam_r.append(rotation_angle(C[:3, :3], C_true[:3, :3]))
        tgt_t.append(np.linalg.norm((C @ T_cam_target0)[:3, 3] - gt[f"T_cam_{target['name']}"][i][:3, 3]))
        inliers.append(tracker.inliers)
    seconds = (time.perf_counter() - t0) / max(len(frames) - 1, 1)
    motion = max(np.linalg.norm((np.linalg.inv(gt["T_world_cam"][i]) @ gt["T_world_cam"][0])[:3, 3])
                 for i in range(len(gt["T_world_cam"])))
    return dict(task=task, n=len(frames) - 1, motion=motion, cam_t=np.array(cam_t), cam_r=np.degrees(cam_r),
                tgt_t=np.array(tgt_t), found=np.mean(np.array(inliers) > 0), inliers=np.median(inliers), seconds=seconds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=["pour", "stack", "place", "attach", "drum", "sweep"])
    ap.add_argument("--work", default="pose_accuracy_runs")
    ap.add_argument("--width", type=int, default=480)
    ap.add_argument("--stride", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rows = [run_task(t, args) for t in args.tasks]
    print(f"\ncamera motion from the table (hand-held, hand, blur, H.264, {args.width}px, stride {args.stride})")
    print("| task | frames | camera moved mm (max) | camera error mm mean / max | deg mean / max | "
          "target error mm mean / max | frames found | median inliers | ms/frame |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['task']} | {r['n']} | {1000 * r['motion']:.0f} | {1000 * r['cam_t'].mean():.1f} / {1000 * r['cam_t'].max():.1f} | "
              f"{r['cam_r'].mean():.2f} / {r['cam_r'].max():.2f} | {1000 * r['tgt_t'].mean():.1f} / {1000 * r['tgt_t'].max():.1f} | "
              f"{r['found']:.0%} | {r['inliers']:.0f} | {1000 * r['seconds']:.0f} |")


if __name__ == "__main__":
    main()
