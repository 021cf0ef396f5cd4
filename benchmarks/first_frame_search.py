"""The first frame's pose search (`ObjectFitter.first`) on saved parses: its time and how well it fits.

Re-runs only the search every tracked object starts from (differential evolution over pose, the Adam
refinement and the silhouette polish, per hypothesis and restart) on frame 0 of each mesh-model parse
that `pose_accuracy.py` left in --work, with the parse's own first-frame mask and model, and prints per
object: the search's seconds (and the part spent in differential evolution, with the number of runs),
the silhouette IoU of the result and its position error against the true pose. Minutes, not the hours
a full acceptance run takes: a change to the search is judged here first (several objects, both ways),
then by `pose_accuracy.py`. Position, not rotation: several objects are symmetric (cubes, cans, bowls).

    python benchmarks/first_frame_search.py --work DIR [DIR ...] [--tasks drum stack] [--set de_popsize=8]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main() -> None:
    from video2robo.gaussians.ply import load_ply
    from video2robo.pose.config import FitConfig
    from video2robo.pose.fit import FrameInput, ObjectFitter
    from video2robo.video.reader import read_video

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", nargs="+", required=True, help="pose_accuracy.py --work folders")
    ap.add_argument("--tasks", nargs="*", default=None)
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="a FitConfig field (repeatable)")
    args = ap.parse_args()
    cfg = FitConfig()
    for item in args.set:
        name, value = item.split("=", 1)
        if not hasattr(cfg, name):
            raise SystemExit(f"FitConfig has no field '{name}'")
        setattr(cfg, name, type(getattr(cfg, name))(value))

    spent = {"de": 0.0, "runs": 0}
    search = ObjectFitter._de

    def timed_search(self, *a, **k):
        t0 = time.perf_counter()
        try:
            return search(self, *a, **k)
        finally:
            spent["de"] += time.perf_counter() - t0
            spent["runs"] += 1

    ObjectFitter._de = timed_search
    demos = sorted(p.parent for w in args.work for p in Path(w).glob("**/demo_mesh/demo.json"))
    demos = [d for d in demos if args.tasks is None or d.parent.name in args.tasks]
    if not demos:
        raise SystemExit("no mesh-model parse found; run benchmarks/pose_accuracy.py --work DIR first")
    print("| parse | object | search s | DE s (runs) | silhouette IoU | position error cm |")
    print("|---|---|---|---|---|---|")
    rows = []
    for demo in demos:
        info = json.loads((demo / "demo.json").read_text())
        gt = np.load(demo.parent / "video" / "gt.npz")
        frames, _ = read_video(info["source_video"], max_frames=1)
        masks = np.load(demo / "masks.npz")
        rgb = frames[0].astype(np.float32) / 255
        for k, name in enumerate(str(s) for s in masks["names"]):
            fitter = ObjectFitter(load_ply(demo / "work" / f"model_{name}.ply"), np.asarray(info["K"]), cfg)
            spent.update(de=0.0, runs=0)
            t0 = time.perf_counter()
            result = fitter.first(FrameInput(rgb, masks["labels"][0] == k + 1))
            seconds = time.perf_counter() - t0
            error = 100 * float(np.linalg.norm(result.T_cam_obj[:3, 3] - gt[f"T_cam_{name}"][0][:3, 3]))
            rows.append((seconds, spent["de"], 1 - result.residual, error))
            print(f"| {demo.parent} | {name} | {seconds:.1f} | {spent['de']:.1f} ({spent['runs']}) | "
                  f"{1 - result.residual:.3f} | {error:.2f} |", flush=True)
    a = np.array(rows)
    print(f"\n{len(a)} objects: search {a[:, 0].sum():.0f} s in all (DE {a[:, 1].sum():.0f} s), mean IoU {a[:, 2].mean():.3f}, "
          f"position error median {np.median(a[:, 3]):.2f} cm, mean {a[:, 3].mean():.2f} cm")


if __name__ == "__main__":
    main()
