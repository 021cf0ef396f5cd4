"""Time `video2robo synth` for each of the six tasks and print a table (seconds per video).

Usage: python benchmarks/synth_speed.py [--width 640 --height 360 --seed 0 --handheld --hand --keep DIR]
Runs the real command (capture + H.264 + gt.npz + meshes + contact sheet) into a temporary folder.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from video2robo.cli import main
from video2robo.synth import TASKS, read_gt


def run(width: int, height: int, seed: int, extra: list[str], keep: Path | None = None) -> list[tuple[str, int, float, float]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for task in TASKS:
            out = (keep or Path(tmp)) / task
            if keep is not None:
                extra = [*extra, "--overwrite"] if "--overwrite" not in extra else extra
            t0 = time.perf_counter()
            rc = main(["synth", "--task", task, "--seed", str(seed), "--out", str(out), "--width", str(width),
                       "--height", str(height), *extra])
            dt = time.perf_counter() - t0
            if rc != 0:
                raise SystemExit(f"synth {task} failed with exit status {rc}")
            n = read_gt(out)[0]["n_frames"]
            rows.append((task, n, dt, (out / "gt.npz").stat().st_size / 1e6))
    return rows


def main_cli() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--handheld", action="store_true")
    ap.add_argument("--hand", action="store_true")
    ap.add_argument("--keep", type=Path, default=None, help="write the videos here instead of a temporary folder")
    args = ap.parse_args()
    extra = (["--handheld"] if args.handheld else []) + (["--hand"] if args.hand else [])
    rows = run(args.width, args.height, args.seed, extra, args.keep)
    print(f"\nvideo2robo synth at {args.width}x{args.height} {' '.join(extra)}")
    print(f"{'task':<8} {'frames':>6} {'seconds':>8} {'ms/frame':>9} {'gt.npz MB':>10}")
    for task, n, dt, mb in rows:
        print(f"{task:<8} {n:>6} {dt:>8.1f} {1000 * dt / n:>9.1f} {mb:>10.1f}")


if __name__ == "__main__":
    main_cli()
