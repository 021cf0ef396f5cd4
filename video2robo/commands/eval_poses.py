"""`video2robo eval-poses PRED_DIR GT_DIR`: BOP Average Recall (MSSD, MSPD, VSD) of estimated object poses.

GT_DIR is a `video2robo synth` output folder, or a folder of such folders (one per video). PRED_DIR
mirrors it: a folder with `poses.npz` holding `T_cam_<name>` (N, 4, 4) arrays, the key names of gt.npz,
and optionally `valid_<name>` (N,) booleans; for a folder of videos, one sub-folder per video with the
same name. Missing or invalid estimates count as wrong. As in BOP, instances less than 10 % visible
are not evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Optional

import tyro


@dataclass
class Config:
    """Score estimated object poses against synthetic ground truth with the BOP metrics."""

    pred: Annotated[Path, tyro.conf.Positional]
    """Folder with poses.npz (or one sub-folder per video)."""
    gt: Annotated[Path, tyro.conf.Positional]
    """`video2robo synth` output folder (or a folder of them)."""
    frame_step: int = 1
    """Evaluate every k-th frame (VSD renders two depth images per object and frame)."""
    vsd: bool = True
    """Compute VSD (needs MuJoCo rendering); without it AR is the mean of MSSD and MSPD recalls."""
    json_out: Optional[Path] = None
    """Also write the table as JSON here."""


def run(cfg: Config) -> int:
    import json

    from video2robo.errors import UserError
    from video2robo.synth.evaluate import evaluate_folder, find_videos

    if cfg.frame_step < 1:
        raise UserError(f"--frame-step {cfg.frame_step} must be at least 1")
    videos = find_videos(cfg.pred, cfg.gt)
    rows = []
    for name, pred_dir, gt_dir in videos:
        rows += evaluate_folder(pred_dir, gt_dir, video=name, frame_step=cfg.frame_step, use_vsd=cfg.vsd)
    print(format_table(rows, cfg.vsd))
    if cfg.json_out is not None:
        cfg.json_out.parent.mkdir(parents=True, exist_ok=True)
        tmp = cfg.json_out.with_name(cfg.json_out.name + ".tmp")
        tmp.write_text(json.dumps(rows, indent=2))
        tmp.replace(cfg.json_out)
    return 0


def format_table(rows: list[dict], with_vsd: bool) -> str:
    """Rows per (video, object), then per object over all videos, then the overall mean."""
    from collections import defaultdict

    def fmt(v):
        return "   -  " if v != v else f"{100 * v:6.2f}"

    head = f"{'video':<24} {'object':<12} {'n':>5} {'AR':>6} {'MSSD':>6} {'MSPD':>6} {'VSD':>6}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['video'][:24]:<24} {r['object']:<12} {r['n']:>5} {fmt(r['AR'])} {fmt(r['AR_MSSD'])} {fmt(r['AR_MSPD'])} {fmt(r['AR_VSD'])}")
    by_obj = defaultdict(list)
    for r in rows:
        by_obj[r["object"]].append(r)
    if len(rows) > 1:
        lines.append("-" * len(head))
        if len({r["video"] for r in rows}) > 1:
            for obj, rs in by_obj.items():
                lines.append(_mean_line("(all videos)", obj, rs, fmt))
        lines.append(_mean_line("(all)", "mean", rows, fmt))
    if not with_vsd:
        lines.append("VSD skipped (--no-vsd): AR = mean of MSSD and MSPD recalls")
    return "\n".join(lines)


def _mean_line(video: str, obj: str, rs: list[dict], fmt) -> str:
    import numpy as np

    n = sum(r["n"] for r in rs)

    def wmean(k):
        vals = [(r[k], r["n"]) for r in rs if r["n"] and r[k] == r[k]]
        return float(np.average([v for v, _ in vals], weights=[w for _, w in vals])) if vals else float("nan")

    return f"{video:<24} {obj:<12} {n:>5} {fmt(wmean('AR'))} {fmt(wmean('AR_MSSD'))} {fmt(wmean('AR_MSPD'))} {fmt(wmean('AR_VSD'))}"
