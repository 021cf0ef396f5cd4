"""BOP AR of our pose fitting on real YCB-Video RGB-D frames with ground truth (seq 0000, frames 1-10).

For every frame and every object with a mesh (025_mug, 061_foam_brick): a mask — either our GrabCut
segmenter given the bounding box of the ground-truth label mask (a first-frame-style box prompt) or
the ground-truth label mask itself — then an independent fit per frame with `ObjectFitter.first`
(differential evolution over the upright pose family + Adam; RGB + mask + real depth), the up axis
chosen per fit from the depth table plane (see `video2robo.pose.ycbv`). Scored with BOP MSSD, MSPD
and VSD (against the real depth) → AR per object; also median translation / rotation error and
seconds per fit. --track adds a tracking run per object: `first` on the first frame, then `next`
through the rest (the camera moves, the objects are static; no point tracks). Slow: ~1 min per fit
on 2 CPU cores.

    nice -n 19 python benchmarks/ycbv_accuracy.py --track --json ycbv_runs/results.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OBJECTS = ("025_mug", "061_foam_brick")


def _mask(frame, name: str, source: str) -> np.ndarray:
    from video2robo.pose.ycbv import grabcut_mask

    return frame.mask(name) if source == "gt" else grabcut_mask(frame, name)


def _row(kind: str, source: str, name: str, frame, T_est: np.ndarray, seconds: float, mask, obj, use_vsd: bool, **extra) -> dict:
    from video2robo.perception.masks import iou as mask_iou
    from video2robo.pose.ycbv import pose_errors

    err = pose_errors(T_est, frame.poses[name], obj, frame, use_vsd)
    return {"kind": kind, "mask": source, "object": name, "frame": frame.index, "seconds": seconds,
            "mask_iou": mask_iou(mask, frame.mask(name)), **err, **extra}


def run(args) -> list[dict]:
    from video2robo.pose.config import FitConfig, LossWeights
    from video2robo.pose.ycbv import fit_pose, load_frame, load_mesh_object, track_pose

    seq = Path(args.data) / "ycbv_0000_first10" / "data" / "0000"
    frames = [load_frame(seq, i) for i in args.frames]
    cfg = FitConfig(de_popsize=args.popsize, de_maxiter=args.maxiter, refine_iters=args.refine_iters,
                    weights=LossWeights(rgb=args.rgb_weight, depth=args.depth_weight))
    rows = []
    for name in args.objects:
        obj = load_mesh_object(Path(args.data) / "meshes", name)
        model = obj.gaussians(args.gaussians)
        print(f"{name}: diameter {obj.diameter * 1000:.1f} mm, {len(obj.symmetries) - 1} shape symmetries, "
              f"{len(model)} Gaussians", flush=True)
        for source in args.masks:
            for frame in frames:
                mask = _mask(frame, name, source)
                out = fit_pose(model, frame, mask, cfg, up=args.up, use_depth=not args.no_depth, obj=obj)
                rows.append(_row("per-frame", source, name, frame, out.T_cam_obj, out.seconds, mask, obj, not args.no_vsd,
                                 up_axis=out.up_axis, candidates=out.candidates))
                r = rows[-1]
                print(f"  {source:7s} frame {frame.index:2d}: {r['seconds']:5.1f} s, up {r['up_axis']}, te {r['te_mm']:6.1f} mm, "
                      f"re {r['re_deg']:5.1f} deg, MSSD/MSPD/VSD {r['MSSD']:.2f}/{r['MSPD']:.2f}/{r['VSD']:.2f}", flush=True)
            if args.track:
                mask = _mask(frames[0], name, source)
                out = fit_pose(model, frames[0], mask, cfg, up=args.up, use_depth=not args.no_depth, obj=obj)
                rows.append(_row("track", source, name, frames[0], out.T_cam_obj, out.seconds, mask, obj, not args.no_vsd,
                                 up_axis=out.up_axis, candidates=out.candidates))
                for frame in frames[1:]:
                    mask = _mask(frame, name, source)
                    T, dt = track_pose(out, frame, mask, use_depth=not args.no_depth)
                    rows.append(_row("track", source, name, frame, T, dt, mask, obj, not args.no_vsd, up_axis=out.up_axis, candidates=0))
                tr = [r for r in rows if r["kind"] == "track" and r["mask"] == source and r["object"] == name]
                print(f"  {source:7s} track: te " + " ".join(f"{r['te_mm']:.0f}" for r in tr) + " mm", flush=True)
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    from video2robo.pose.bop import average_recall

    out = []
    keys = sorted({(r["kind"], r["mask"], r["object"]) for r in rows}, key=lambda k: (k[0] != "per-frame", k[1], k[2]))
    for kind, source, name in keys:
        sel = [r for r in rows if (r["kind"], r["mask"], r["object"]) == (kind, source, name)]
        ar = average_recall([{k: r[k] for k in ("MSSD", "MSPD", "VSD")} for r in sel])
        secs = [r["seconds"] for r in sel if r["candidates"] > 0]  # first-frame style fits
        track_secs = [r["seconds"] for r in sel if r["candidates"] == 0]
        out.append({"kind": kind, "mask": source, "object": name, **ar,
                    "te_mm": float(np.median([r["te_mm"] for r in sel])), "re_deg": float(np.median([r["re_deg"] for r in sel])),
                    "te_under_2cm": float(np.mean([r["te_mm"] < 20 for r in sel])),
                    "mask_iou": float(np.mean([r["mask_iou"] for r in sel])),
                    "s_per_fit": float(np.mean(secs)) if secs else float("nan"),
                    "s_per_track": float(np.mean(track_secs)) if track_secs else float("nan"),
                    "up_axes": dict(Counter(r["up_axis"] for r in sel if r["candidates"] > 0))})
    return out


def print_table(summary: list[dict], args) -> None:
    print(f"\nYCB-Video 0000 frames {args.frames[0]}-{args.frames[-1]}: BOP AR (MSSD/MSPD/VSD; VSD vs real depth), "
          f"up={args.up}, {'RGB+mask' if args.no_depth else 'RGB+mask+depth'}, DE pop {args.popsize} x {args.maxiter} gens, "
          f"{args.gaussians} Gaussians, weights rgb {args.rgb_weight} depth {args.depth_weight}")
    print("| fit | mask | object | n | AR | MSSD | MSPD | VSD | te median mm | re median deg | te<2cm | mask IoU | s/fit | s/track frame | up axis |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s in summary:
        ups = ", ".join(f"{k}x{v}" for k, v in s["up_axes"].items())
        trk = f"{s['s_per_track']:.1f}" if np.isfinite(s["s_per_track"]) else "—"
        print(f"| {s['kind']} | {s['mask']} | {s['object']} | {s['n']} | {s['AR']:.3f} | {s['AR_MSSD']:.2f} | {s['AR_MSPD']:.2f} | "
              f"{s['AR_VSD']:.2f} | {s['te_mm']:.1f} | {s['re_deg']:.1f} | {s['te_under_2cm']:.0%} | {s['mask_iou']:.2f} | "
              f"{s['s_per_fit']:.1f} | {trk} | {ups} |")
    for kind in dict.fromkeys(s["kind"] for s in summary):
        for source in dict.fromkeys(s["mask"] for s in summary):
            ars = [s["AR"] for s in summary if s["kind"] == kind and s["mask"] == source]
            if ars:
                print(f"mean AR ({kind}, {source} masks, {len(ars)} objects): {np.mean(ars):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="the shared data folder (holds ycbv_0000_first10/ and meshes/)")
    ap.add_argument("--frames", type=int, nargs="+", default=list(range(1, 11)))
    ap.add_argument("--objects", nargs="+", default=list(OBJECTS), choices=OBJECTS)
    ap.add_argument("--masks", nargs="+", default=["grabcut", "gt"], choices=["grabcut", "gt"],
                    help="grabcut: our segmenter from the GT mask's box; gt: the GT label mask")
    ap.add_argument("--up", default="table", choices=["table", "z", "free"],
                    help="orientation prior: table (up axis from the depth table plane), z (model z up), free (none)")
    ap.add_argument("--popsize", type=int, default=8, help="DE population multiplier (FitConfig default 12)")
    ap.add_argument("--maxiter", type=int, default=20, help="DE generations (FitConfig default 30)")
    ap.add_argument("--refine-iters", type=int, default=60)
    ap.add_argument("--gaussians", type=int, default=1500,
                    help="Gaussians sampled from the mesh; keep <= FitConfig.de_max_gaussians (2500) so DE renders the whole model")
    ap.add_argument("--rgb-weight", type=float, default=0.5, help="FitConfig default 2.0 (see the module docstring of pose.ycbv)")
    ap.add_argument("--depth-weight", type=float, default=2.0, help="FitConfig default 1.0; real depth is the most reliable cue here")
    ap.add_argument("--no-depth", action="store_true", help="fit on RGB + mask only")
    ap.add_argument("--no-vsd", action="store_true")
    ap.add_argument("--track", action="store_true", help="also: first() on the first frame, next() through the rest")
    ap.add_argument("--json", help="write per-fit rows and the summary here")
    args = ap.parse_args()
    if not (Path(args.data) / "ycbv_0000_first10").is_dir():
        ap.error(f"{args.data}/ycbv_0000_first10 not found; pass --data")
    t0 = time.perf_counter()
    rows = run(args)
    summary = summarise(rows)
    print_table(summary, args)
    print(f"total {time.perf_counter() - t0:.0f} s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"args": vars(args), "rows": rows, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
