"""Skill frames of `parse` on synthetic videos: how much of each frame's error is the poses', how much the parser's.

`pose_accuracy.py` reports how far each detected skill frame (grasp, release, task start, task end) lies
from the truth. This script re-parses the skills of every mesh-model parse it left in --work twice with
`skills.parse_skills`, with the task spec's settings:
- on the parse's fitted world trajectories, with its validity flags and the hand's cover as the parse had
  them (this reproduces demo.json's skills when the parse ran on the current code);
- on the video's true trajectories (every frame valid, the same hand cover).
A frame off on the fitted poses but within the tolerance on the true ones is a pose error; off on both,
the parser's. Errors are in video frames (detected − true). Single-view parses are left out: their
object frames are not the true objects'.

Usage: python benchmarks/skill_frames.py --work DIR [DIR ...] [--tasks drum stack ...] [--tolerance 3]
(each DIR is a pose_accuracy.py --work; one with several seeds holds seedN/TASK folders).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from video2robo.errors import UserError
from video2robo.gaussians.ply import load_ply
from video2robo.parse.pipeline import skill_params
from video2robo.skills import parse_skills
from video2robo.synth.output import read_gt
from video2robo.task_spec import load_task_spec

EVENTS = ("grasp", "release", "task start", "task end")


def demo_folders(work: Path, tasks: list[str] | None) -> list[Path]:
    """Every demo_mesh folder with a parse under `work` (TASK/ or seedN/TASK/), of the chosen tasks."""
    found = sorted(p.parent for p in work.glob("**/demo_mesh/demo.json"))
    return [d for d in found if tasks is None or d.parent.name in tasks]


def _errors(sk: dict | None, idx: np.ndarray, gt: dict) -> list[int | None]:
    if sk is None:
        return [None] * 4
    frames = [sk["grasp_frame"], sk["release_frame"], *sk["task_segment"]]
    truth = [int(gt["grasp_frame"]), int(gt["release_frame"]), *(int(v) for v in gt["task_frames"])]
    return [int(idx[f]) - t for f, t in zip(frames, truth)]


def rescore(demo: Path) -> dict:
    """The skill-frame errors of one parse from its fitted poses ('fitted'), from the true poses ('true'),
    and those demo.json recorded ('recorded')."""
    info = json.loads((demo / "demo.json").read_text())
    roles = {o["role"]: o["name"] for o in info["objects"]}
    src, tgt = roles["source"], roles["target"]
    task = demo.parent.name
    _, gt = read_gt(demo.parent / "video")
    idx = np.asarray(info["frame_indices"])
    poses = np.load(demo / "poses.npz")
    fits = {o: np.load(demo / "work" / f"fit_{o}.npz") for o in (src, tgt)}
    pts = {o: load_ply(demo / "objects" / f"{o}.ply").means.numpy().astype(np.float64)[::4] for o in (src, tgt)}
    params = skill_params(load_task_spec(task), float(info["fps"]))
    hand = fits[src]["hand"] if "hand" in fits[src].files else None

    def parse(T: dict, valid_source, valid_target) -> dict | None:
        try:
            return parse_skills(T[src], T[tgt], pts[src], pts[tgt], params, hand_source=hand,
                                valid_source=valid_source, valid_target=valid_target)
        except UserError:
            return None

    fitted = {o: poses["T_world_cam"] @ poses[f"T_cam_{o}"] for o in (src, tgt)}
    true = {o: gt[f"T_world_{o}"][idx] for o in (src, tgt)}
    n = len(idx)
    return {"task": task, "source": src,
            "fitted": _errors(parse(fitted, fits[src]["valid"], fits[tgt]["valid"]), idx, gt),
            "true": _errors(parse(true, np.ones(n, bool), np.ones(n, bool)), idx, gt),
            "recorded": _errors(info.get("skills"), idx, gt)}


def _cells(errors: list[int | None], sep: str = " | ") -> str:
    return sep.join("—" if e is None else f"{e:+d}" for e in errors)


def _within(rows: list[dict], key: str, tol: int) -> int:
    return sum(e is not None and abs(e) <= tol for r in rows for e in r[key])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", nargs="+", required=True, help="pose_accuracy.py --work folders")
    ap.add_argument("--tasks", nargs="*", default=None)
    ap.add_argument("--tolerance", type=int, default=3, help="frames (video) within which a skill frame is right")
    args = ap.parse_args()
    rows = []
    for work in args.work:
        folders = demo_folders(Path(work), args.tasks)
        if not folders:
            print(f"{work}: no mesh-model parse found; run benchmarks/pose_accuracy.py --work {work} first")
        for demo in folders:
            rows.append({"demo": str(demo), **rescore(demo)})
    if not rows:
        return
    head = " | ".join(EVENTS)
    print("\nskill-frame errors (video frames, detected − true), re-parsed from the fitted and from the true poses")
    print(f"| parse | task | source | fitted: {head} | true poses: {head} |")
    print("|---|---|---|" + "---|" * 8)
    for r in rows:
        stale = "" if r["recorded"] == r["fitted"] else f" (demo.json: {_cells(r['recorded'], ' ')})"
        print(f"| {r['demo']} | {r['task']} | {r['source']} | {_cells(r['fitted'])}{stale} | {_cells(r['true'])} |")
    t, total = args.tolerance, 4 * len(rows)
    fitted, true = _within(rows, "fitted", t), _within(rows, "true", t)
    pose_only = sum(e is not None and abs(e) > t and g is not None and abs(g) <= t
                    for r in rows for e, g in zip(r["fitted"], r["true"]))
    print(f"\nwithin ±{t}: {fitted} of {total} from the fitted poses, {true} of {total} from the true poses; "
          f"{pose_only} off only with the fitted poses (pose errors), {total - fitted - pose_only} off with both "
          "or not found")


if __name__ == "__main__":
    main()
