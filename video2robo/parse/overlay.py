"""overlay.mp4: the fitted object models drawn over the video, with mask outlines and point tracks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

COLOURS = [(255, 80, 80), (80, 200, 255), (120, 255, 120), (255, 200, 60)]


def overlay_frame(frame, K, models, poses, labels_t, names, tracks, t):
    import cv2

    from video2robo.gaussians import GaussianSet
    from video2robo.geometry.camera import PinholeCamera
    from video2robo.render import render

    h, w = frame.shape[:2]
    cam = PinholeCamera(K, np.eye(4), w, h)
    scene = GaussianSet.concat([models[nm].transform(poses[f"T_cam_{nm}"][t]) for nm in names])
    with torch.no_grad():
        out = render(scene, cam)
    # rendered colour is premultiplied by alpha: blend the models at 55 % over the frame
    a = 0.55 * out.alpha[0].numpy()[..., None]
    img = np.clip(frame.astype(np.float32) * (1 - a) + 0.55 * 255 * out.rgb[0].numpy(), 0, 255).astype(np.uint8)
    for k, nm in enumerate(names):
        colour = COLOURS[k % len(COLOURS)]
        m = (labels_t == k + 1).astype(np.uint8)
        contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(img, contours, -1, colour, 1)
        xy, vis = tracks[f"{nm}_xy"][t], tracks[f"{nm}_visible"][t]
        for x, y in xy[vis & np.isfinite(xy).all(-1)]:
            cv2.circle(img, (int(x), int(y)), 1, colour, -1)
        fitted = bool(poses.get(f"fitted_{nm}", poses[f"valid_{nm}"])[t])
        state = "ok" if fitted else "rest" if poses[f"valid_{nm}"][t] else "interp"
        cv2.putText(img, f"{nm} {state} iou {1 - poses[f'residual_{nm}'][t]:.2f}", (6, 16 + 16 * k),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
    cv2.putText(img, f"frame {t}", (6, h - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def write_overlay(path: Path, frames, fps, K, models, poses, labels, names, tracks, progress=True) -> None:
    import imageio.v2 as imageio

    from video2robo.io_utils import atomic_path

    with atomic_path(path) as tmp:
        with imageio.get_writer(tmp, format="FFMPEG", fps=fps, codec="libx264", macro_block_size=1, quality=None,
                                pixelformat="yuv420p", ffmpeg_log_level="error", ffmpeg_params=["-crf", "23"]) as wr:
            h, w = frames.shape[1:3]
            for t in tqdm(range(len(frames)), desc="overlay", unit="frame", disable=not progress):
                img = overlay_frame(frames[t], K, models, poses, labels[t], names, tracks, t)
                wr.append_data(img[: h - h % 2, : w - w % 2])  # H.264 (yuv420p) needs even sizes
