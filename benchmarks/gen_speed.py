"""Seconds per accepted demo (generate, default settings, 1 worker) vs replaying the same joint
trajectories in MuJoCo with offscreen rendering (what a simulator-based generator pays per demo).

    MUJOCO_GL=egl python benchmarks/gen_speed.py --task pour --num 3 --size 128 [--demo DIR]

The generate column is the per-demo time `generate` itself records (planning with every rejected
attempt included, rendering RGB + depth + masks, tracks) averaged over accepted demos, plus the
dataset writing (robomimic HDF5 + zarr) shared out per demo. The one-time setup of a generator
(loading the demo and the robot, sampling grasps) is printed on its own line. The replay column steps robosuite's Panda model (physics at its 2 ms
timestep, PD + gravity compensation towards the demo's joint targets, see `generate/replay.py`) and
renders one RGB frame per control step at the same size; its scene holds the robot only (no table or
objects), so it is a lower bound of a simulator replay's cost.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("MUJOCO_GL", "egl")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="pour")
    ap.add_argument("--num", type=int, default=3)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--demo", type=Path, default=None, help="demo folder (default: built from synth, see gen_acceptance)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/gen_speed"))
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gen_acceptance import demo_folder

    from video2robo.generate.replay import replay
    from video2robo.generate.run import generate_dataset
    from video2robo.task_spec import load_task_spec

    args.work.mkdir(parents=True, exist_ok=True)
    demo = args.demo or demo_folder(args.task, args.work, 0)
    out = args.work / f"{args.task}_ds"
    shutil.rmtree(out, ignore_errors=True)
    stats = generate_dataset(demo, out, num=args.num, task=args.task, width=args.size, height=args.size, workers=1,
                             progress=False, preview=0)
    per_demo = stats["seconds_per_demo"]
    write_share = stats["write_seconds"] / max(1, stats["num_success"])
    replays = []
    for f in sorted((out / "episodes").glob("ep_*.npz")):
        with np.load(f) as z:
            meta = json.loads(str(z["meta_json"]))
            r = replay(z["actions"], z["joint_pos"][0].astype(float), z["eef_pos"], z["T_world_base"],
                       load_task_spec(args.task).timing.control_hz, physics=True, render_size=args.size)
            replays.append((meta["steps"], r))
    steps = np.mean([s for s, _ in replays])
    rep = np.mean([r.seconds for _, r in replays])
    err = max(r.max_error for _, r in replays)
    print(f"task {args.task}, {args.size}x{args.size}, {stats['num_success']} demos, {steps:.0f} steps each, "
          f"acceptance {stats['success_rate']:.0%} ({stats['num_attempts']} attempts)")
    print(f"{'':34} {'s/demo':>8} {'ms/step':>8}")
    print(f"{'generate (plan+render+tracks)':34} {per_demo:8.2f} {1000 * per_demo / steps:8.1f}")
    print(f"{'generate incl. dataset writing':34} {per_demo + write_share:8.2f} {1000 * (per_demo + write_share) / steps:8.1f}")
    print(f"{'MuJoCo replay (physics + RGB)':34} {rep:8.2f} {1000 * rep / steps:8.1f}")
    print(f"replay grip-site error vs recorded eef: max {err * 1000:.1f} mm")
    print(f"one-time setup (demo, robot asset, grasp sampling, collision models): {stats['setup_seconds'] or 0.0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
