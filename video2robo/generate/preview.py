"""Preview of a few generated episodes: an MP4 (episodes one after another) and a PNG contact sheet."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from video2robo.io_utils import atomic_path


def write_preview(episode_files: list[Path], out_dir: Path, camera: str, fps: float, count: int = 3) -> list[Path]:
    import imageio.v2 as imageio
    from PIL import Image

    frames, sheet_rows = [], []
    for path in episode_files[:count]:
        with np.load(path) as z:
            imgs = z[f"{camera}_image"]
        frames.extend(imgs)
        pick = np.linspace(0, len(imgs) - 1, 6).astype(int)
        sheet_rows.append(np.concatenate([imgs[i] for i in pick], axis=1))
    if not frames:
        return []
    out_dir = Path(out_dir)
    mp4 = out_dir / "preview.mp4"
    tmp = out_dir / ".preview.tmp.mp4"  # ffmpeg picks the container from the extension
    try:
        with imageio.get_writer(tmp, fps=fps, codec="libx264", macro_block_size=1, pixelformat="yuv420p",
                                ffmpeg_log_level="error") as w:
            for f in frames:
                w.append_data(f)
        os.replace(tmp, mp4)
    finally:
        if tmp.exists():
            tmp.unlink()
    png = out_dir / "preview.png"
    with atomic_path(png) as tmp:
        Image.fromarray(np.concatenate(sheet_rows, axis=0)).save(tmp, format="PNG")
    return [mp4, png]
