"""Mask accuracy of `parse`: the masks each frame's pose fit used, against the ground truth's visible masks.

Reads the folders `benchmarks/pose_accuracy.py` leaves in its --work (TASK/video with the ground truth,
TASK/demo_MODEL with the parse) and prints, per object and per mask source (parse.mask_choice: the
propagated mask, the colour detection near the prediction, a re-detection, the prediction itself),
the mean recall and precision of the used mask against the object's visible pixels, and how many
frames lose more than 30 % of them. A mask that misses the object's blurred edges or a part first seen
later is thinner or smaller than the object, and the fit moves away from the camera to match it; this
table says where that happens without re-running the parse.

    python benchmarks/mask_accuracy.py --work pose_accuracy_runs [--tasks drum sweep] [--model mesh]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from parsed_runs import add_arguments, task_dirs


def mask_rows(task_dir: Path, model: str) -> list[dict]:
    """One row per (object, mask source) for one parsed task folder."""
    from video2robo.parse.mask_choice import MASK_SOURCES
    from video2robo.synth.output import read_gt

    demo = task_dir / f"demo_{model}"
    _, gt = read_gt(task_dir / "video")  # every array read once, not per frame from the archive
    info = json.loads((demo / "demo.json").read_text())
    idx = np.asarray(info["frame_indices"])
    rows = []
    for name, label in zip(gt["object_names"], gt["object_labels"]):
        fit = np.load(demo / "work" / f"fit_{name}.npz")
        used = np.unpackbits(fit["used_masks"], axis=-1, count=int(info["width"])).astype(bool)
        stats: dict[str, list[tuple[float, float]]] = {}
        for k, f in enumerate(idx):
            visible = gt["masks"][f] == label
            if visible.shape != used[k].shape:
                visible = cv2.resize(visible.astype(np.uint8), used[k].shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
            if visible.sum() < 16 or not used[k].any():
                continue
            hit = (used[k] & visible).sum()
            stats.setdefault(MASK_SOURCES[fit["mask_source"][k]], []).append((hit / visible.sum(), hit / used[k].sum()))
        for source, rp in sorted(stats.items()):
            r, p = np.asarray(rp).T
            rows.append(dict(task=task_dir.name, object=str(name), source=source, n=len(r), recall=float(r.mean()),
                             precision=float(p.mean()), low=int((r < 0.7).sum())))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(ap)
    args = ap.parse_args()
    rows = []
    for task_dir in task_dirs(args):
        rows += mask_rows(task_dir, args.model)
    print(f"\nmasks the pose fits used vs the visible ground truth ({args.model} models; recall < 0.7: frames losing "
          "more than 30 % of the object)")
    print("| task | object | mask source | frames | recall | precision | recall < 0.7 |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['task']} | {r['object']} | {r['source']} | {r['n']} | {r['recall']:.2f} | {r['precision']:.2f} | {r['low']} |")


if __name__ == "__main__":
    main()
