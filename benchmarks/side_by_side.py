"""Parses side by side: how much slower a parse runs while another one (or any busy process) shares the cores.

Synthesises one short pose_accuracy-like video (place, seed 1, hand-held camera, hand, blur, H.264; kept in
--work), then times `video2robo parse` on its first --frames sampled frames (stride 3, the given meshes,
--task none: the fit alone) in fresh processes: one alone, then --jobs at once, with the OpenMP spin
count video2robo sets on import (GOMP_SPINCOUNT=1000, see video2robo/__init__.py) and with libgomp's own
default (300000) that PyTorch's threads otherwise keep spinning for between parallel regions. Prints a
table of wall-clock seconds. The poses do not depend on the setting.

    python benchmarks/side_by_side.py --work DIR [--jobs 2] [--frames 16]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SETTINGS = {"video2robo's (1000)": None, "libgomp's default (300000)": "300000"}


def _video(work: Path) -> Path:
    from video2robo.synth import CaptureSettings, capture, write_capture

    video = work / "video"
    if not (video / "gt.npz").is_file():
        cap = capture(CaptureSettings(task="place", seed=1, width=480, height=270, handheld=True, hand=True, blur=True,
                                      fov_x_deg=65.0), progress=False)
        write_capture(cap, video, crf=23, overwrite=True)
    return video


def _command(video: Path, out: Path, frames: int) -> list[str]:
    from video2robo.synth.output import first_frame_boxes

    summary = json.loads((video / "gt.json").read_text())
    cmd = [sys.executable, "-m", "video2robo", "parse", str(video / "video.mp4"), "--out", str(out), "--task", "none",
           "--target", "plate", "--fov", str(summary["fov_x_deg"]), "--stride", "3", "--max-frames", str(frames)]
    for box in first_frame_boxes(np.load(video / "gt.npz")):
        cmd += ["--prompt", box]
    for o in summary["objects"]:
        cmd += ["--model", f"{o['name']}={video / o['mesh']}"]
    return cmd


def _run(video: Path, work: Path, tag: str, jobs: int, frames: int, spin: str | None) -> float:
    env = dict(os.environ)
    env.pop("GOMP_SPINCOUNT", None)
    if spin is not None:
        env["GOMP_SPINCOUNT"] = spin
    t0 = time.perf_counter()
    procs = []
    for k in range(jobs):
        out = work / f"demo_{tag}_{k}"
        shutil.rmtree(out, ignore_errors=True)
        procs.append(subprocess.Popen(_command(video, out, frames), env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"parse failed ({tag}):\n{err[-2000:]}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--frames", type=int, default=16)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    video = _video(args.work)
    _run(video, args.work, "warm", 1, 2, None)  # numba's on-disk cache filled, files in the page cache
    print(f"\nwall-clock seconds of `parse` on {args.frames} frames, {os.cpu_count()} CPUs")
    print(f"| OpenMP spin count | 1 alone | {args.jobs} side by side | slowdown per parse |")
    print("|---|---|---|---|")
    for label, spin in SETTINGS.items():
        tag = "default" if spin is None else f"spin{spin}"
        alone = _run(video, args.work, tag, 1, args.frames, spin)
        together = _run(video, args.work, tag, args.jobs, args.frames, spin)
        print(f"| {label} | {alone:.1f} | {together:.1f} | {together / alone:.1f}x |")


if __name__ == "__main__":
    main()
