"""report.html: what parse found and how sure it is — skills, warnings, residual plots, key frames."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np


def _svg_plot(series: dict[str, np.ndarray], marks: dict[str, int], title: str, ylabel: str, threshold=None, width=640, height=180) -> str:
    """A small inline SVG line plot (no plotting library needed)."""
    colours = ["#d33", "#39c", "#3a3", "#c90"]
    n = max(len(v) for v in series.values())
    vals = np.concatenate([np.asarray(v, float) for v in series.values()])
    lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
    if threshold is not None:
        lo, hi = min(lo, threshold), max(hi, threshold)
    hi = hi if hi > lo else lo + 1
    px = lambda i: 40 + (width - 50) * i / max(n - 1, 1)  # noqa: E731
    py = lambda v: height - 25 - (height - 40) * (v - lo) / (hi - lo)  # noqa: E731
    parts = [f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" style="background:#fafafa">',
             f'<text x="40" y="14" font-size="12">{html.escape(title)}</text>',
             f'<text x="2" y="{height / 2}" font-size="10">{html.escape(ylabel)}</text>',
             f'<text x="2" y="{py(hi) + 4}" font-size="9">{hi:.3g}</text><text x="2" y="{py(lo)}" font-size="9">{lo:.3g}</text>']
    if threshold is not None:
        parts.append(f'<line x1="40" x2="{width - 10}" y1="{py(threshold)}" y2="{py(threshold)}" stroke="#999" stroke-dasharray="4"/>')
    for (name, frame) in marks.items():
        parts.append(f'<line x1="{px(frame)}" x2="{px(frame)}" y1="20" y2="{height - 25}" stroke="#888"/>'
                     f'<text x="{px(frame) + 2}" y="{height - 12}" font-size="9">{html.escape(name)} {frame}</text>')
    for k, (name, v) in enumerate(series.items()):
        pts = " ".join(f"{px(i):.1f},{py(float(x)):.1f}" for i, x in enumerate(v) if np.isfinite(x))
        parts.append(f'<polyline fill="none" stroke="{colours[k % 4]}" stroke-width="1.5" points="{pts}"/>'
                     f'<text x="{width - 120}" y="{30 + 12 * k}" font-size="10" fill="{colours[k % 4]}">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _keyframes(overlay: Path, frames: list[int]) -> str:
    import imageio.v2 as imageio
    from PIL import Image

    if not overlay.is_file():
        return ""
    out = []
    reader = imageio.get_reader(overlay)
    try:
        for f in frames:
            try:
                img = Image.fromarray(reader.get_data(int(f)))
            except IndexError:
                continue
            img.thumbnail((320, 320))
            buf = io.BytesIO()
            img.save(buf, format="PNG")
            out.append(f'<figure><img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}"><figcaption>frame {f}</figcaption></figure>')
    finally:
        reader.close()
    return "".join(out)


def write_report(folder: Path, demo, poses: dict, names: list[str], fit_times: dict, seconds: float) -> Path:
    from video2robo.io_utils import atomic_path

    marks = {}
    if demo.skills is not None:
        s = demo.skills
        marks = {"grasp": s.grasp_frame, "task start": s.task_segment[0], "task end": s.task_segment[1], "release": s.release_frame}
    rows = "".join(
        f"<tr><td>{html.escape(o.name)}</td><td>{o.role}</td><td>{html.escape(o.model_source)}</td>"
        f"<td>{html.escape(o.scale_source)}</td>"
        f"<td>{np.mean(poses.get(f'fitted_{o.name}', poses[f'valid_{o.name}'])):.0%}</td><td>{1 - np.median(poses[f'residual_{o.name}']):.3f}</td>"
        f"<td>{fit_times.get(o.name, {}).get('init_s', float('nan')):.1f}</td>"
        f"<td>{fit_times.get(o.name, {}).get('track_s_per_frame', float('nan')):.2f}</td></tr>"
        for o in demo.objects)
    plots = [_svg_plot({nm: 1 - poses[f"residual_{nm}"] for nm in names}, marks, "silhouette IoU of the fitted model per frame",
                       "IoU", threshold=0.5)]
    if "source_target_distance" in poses:
        plots.append(_svg_plot({"source-target surface distance": poses["source_target_distance"] * 100}, marks,
                               "source-target distance (cm); the task segment is where it stays under 3 cm", "cm", threshold=3.0))
    movers = [o.name for o in demo.objects if o.role == "source"] or list(names)  # no task: every object
    speeds = {f"{nm} speed (m/s)": np.linalg.norm(np.diff((poses["T_world_cam"] @ poses[f"T_cam_{nm}"])[:, :3, 3], axis=0),
                                                   axis=1) * demo.fps for nm in movers}
    plots.append(_svg_plot(speeds, marks, "speed in the world frame", "m/s"))
    hands = {f"hand on {nm}": poses[f"hand_{nm}"] for nm in movers
             if f"hand_{nm}" in poses and np.isfinite(poses[f"hand_{nm}"]).any()}
    if hands:
        plots.append(_svg_plot(hands, marks, "share of the object's surroundings the hand covers; "
                               "the release is where it drops after the source stops", "share", threshold=0.05))
    key = sorted(set([0, len(demo.frame_indices) - 1] + list(marks.values())))
    skills = ("<p>Skills not parsed.</p>" if demo.skills is None else
              f"<p>grasp frame <b>{demo.skills.grasp_frame}</b>, release frame <b>{demo.skills.release_frame}</b>, "
              f"task segment <b>{demo.skills.task_segment[0]}–{demo.skills.task_segment[1]}</b> (processed-frame numbers)</p>")
    warn = "".join(f"<li>{html.escape(w)}</li>" for w in demo.warnings) or "<li>none</li>"
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>video2robo parse report</title>
<style>body{{font-family:sans-serif;max-width:980px;margin:20px auto}} td,th{{padding:3px 8px;border-bottom:1px solid #ddd}}
figure{{display:inline-block;margin:4px}} figcaption{{font-size:11px;text-align:center}}</style></head><body>
<h1>Parse report: {html.escape(demo.task)}</h1>
<p>video <code>{html.escape(demo.source_video)}</code>, {len(demo.frame_indices)} frames at {demo.fps:.1f} fps, {demo.width}×{demo.height};
intrinsics: {html.escape(demo.intrinsics_source)}; total {seconds:.0f} s.</p>
<h2>Skills</h2>{skills}
<h2>Warnings</h2><ul>{warn}</ul>
<h2>Objects</h2><table><tr><th>object</th><th>role</th><th>model</th><th>scale from</th><th>frames fitted</th><th>median IoU</th><th>init s</th><th>track s/frame</th></tr>{rows}</table>
<h2>Fit quality</h2>{''.join(plots)}
<h2>Key frames (overlay)</h2>{_keyframes(folder / 'overlay.mp4', key)}
<p>Full overlay: <a href="overlay.mp4">overlay.mp4</a>.</p></body></html>"""
    path = folder / "report.html"
    with atomic_path(path) as tmp:
        tmp.write_text(page)
    return path
