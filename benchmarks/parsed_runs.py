"""The parses `benchmarks/pose_accuracy.py` leaves in its --work, for the scripts that read them afterwards
(mask_accuracy.py, loss_bias.py): their shared options and the task folders that hold a parse."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """--work, --tasks and --model, as pose_accuracy.py names them."""
    ap.add_argument("--work", default="pose_accuracy_runs")
    ap.add_argument("--tasks", nargs="*", default=None, help="default: every parsed task in --work")
    ap.add_argument("--model", choices=["mesh", "single-view"], default="mesh")


def task_dirs(args: argparse.Namespace) -> list[Path]:
    """The --work folders (TASK: video/ with the ground truth, demo_MODEL/ with the parse) of the chosen
    tasks that hold a parse; each that does not is named, with how to make it."""
    work = Path(args.work)
    tasks = args.tasks or sorted(p.parent.parent.name for p in work.glob(f"*/demo_{args.model}/demo.json"))
    found = []
    for task in tasks:
        demo = work / task / f"demo_{args.model}"
        if (demo / "demo.json").is_file():
            found.append(work / task)
        else:
            print(f"{task}: no parse in {demo}; run benchmarks/pose_accuracy.py first")
    return found
