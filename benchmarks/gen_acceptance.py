"""Generation acceptance per task: attempts, accepted, rate, rejections by reason (and phase).

For every task it builds a demo folder from a synthetic ground-truth capture (`video2robo synth` +
`demo_from_gt`, cached under --work), then runs the real `generate_dataset` (rendering and writers
included) for --num demos at a small image size and reads the counts back from its stats.json. Runs
that stop early (an episode exhausted its attempts) still report their stats.

    python benchmarks/gen_acceptance.py --num 10 --size 64 [--tasks stack pour] [--work /tmp/gen_acc]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from video2robo.task_spec import TASK_NAMES


def demo_folder(task: str, work: Path, seed: int) -> Path:
    """A cached demo folder built from synth ground truth for `task`."""
    from video2robo.demo_from_gt import demo_from_gt

    demo = work / f"{task}_demo"
    if (demo / "demo.json").is_file():
        return demo
    gt = work / f"{task}_gt"
    if not (gt / "gt.npz").is_file():
        subprocess.run([sys.executable, "-m", "video2robo.cli", "synth", "--task", task, "--seed", str(seed), "--out", str(gt)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return demo_from_gt(gt, demo, overwrite=True)


def run_task(task: str, demo: Path, out: Path, num: int, size: int, seed: int) -> dict:
    from video2robo.errors import UserError
    from video2robo.generate.run import generate_dataset

    shutil.rmtree(out, ignore_errors=True)
    error = ""
    try:
        generate_dataset(demo, out, num=num, task=task, seed=seed, width=size, height=size, progress=False, preview=0)
    except UserError as e:
        error = str(e)
    stats = json.loads((out / "stats.json").read_text())
    stats["error"] = error
    return stats


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="*", default=list(TASK_NAMES))
    ap.add_argument("--num", type=int, default=10)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--synth-seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=Path("/tmp/gen_acceptance"))
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for task in args.tasks:
        demo = demo_folder(task, args.work, args.synth_seed)
        s = run_task(task, demo, args.work / f"{task}_ds", args.num, args.size, args.seed)
        rows.append((task, s))
        print(f"{task}: {s['num_success']}/{s['num_attempts']} {s.get('error', '')}", file=sys.stderr, flush=True)
    print(f"{'task':8} {'attempts':>8} {'accepted':>8} {'rate':>7} {'s/demo':>7}  rejections (reason: count)")
    for task, s in rows:
        rej = Counter(s["rejections"])
        spd = f"{s['seconds_per_demo']:.2f}" if s["seconds_per_demo"] else "-"
        print(f"{task:8} {s['num_attempts']:8d} {s['num_success']:8d} {s['success_rate']:7.1%} {spd:>7}  "
              f"{dict(rej.most_common()) or '-'}")
        phases = s.get("candidate_rejections") or {}
        if phases:
            print(f"{'':8} grasp candidates rejected (reason@phase): {phases}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
