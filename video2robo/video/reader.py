"""Reading phone videos into uint8 RGB frames, with errors a user can act on.

Frames come from imageio's ffmpeg plugin (imageio-ffmpeg bundles its own ffmpeg, so no system
install is needed). Every failure the user can cause — a missing path, a file that is not a video,
a video with no frames, bad arguments — raises `UserError` naming the file and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from video2robo.errors import UserError


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video (frame count is often unknown for mp4: None)."""

    path: Path
    fps: float
    width: int
    height: int
    n_frames: int | None


def _check_path(path: Path | str) -> Path:
    path = Path(path)
    if not path.exists():
        raise UserError(f"video not found: {path}")
    if not path.is_file():
        raise UserError(f"video path is not a file: {path}")
    if path.stat().st_size == 0:
        raise UserError(f"video file is empty (0 bytes): {path}")
    return path


def _open_reader(path: Path):
    import imageio.v2 as iio2

    try:
        return iio2.get_reader(str(path), format="FFMPEG")
    except Exception as exc:  # imageio raises OSError/RuntimeError/ValueError depending on the failure
        raise UserError(f"cannot read video {path}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                        " (is it a valid video file? re-encode with: ffmpeg -i in.mov -c:v libx264 out.mp4)") from exc


def probe_video(path: Path | str) -> VideoInfo:
    """Frame rate and size of a video without decoding it all."""
    path = _check_path(path)
    reader = _open_reader(path)
    try:
        meta = reader.get_meta_data()
    finally:
        reader.close()
    fps = float(meta.get("fps") or 0.0)
    width, height = (int(v) for v in meta.get("size", (0, 0)))
    n = meta.get("nframes")
    n_frames = int(n) if isinstance(n, (int, float)) and np.isfinite(n) else None
    if width <= 0 or height <= 0:
        raise UserError(f"video {path} reports no image size: not a video stream?")
    return VideoInfo(path, fps, width, height, n_frames)


def _resize_to_max_side(frame: np.ndarray, max_side: int | None) -> np.ndarray:
    if max_side is None:
        return frame
    h, w = frame.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return frame
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def _check_args(max_frames: int | None, stride: int, max_side: int | None) -> None:
    if stride < 1:
        raise UserError(f"stride must be >= 1, got {stride}")
    if max_frames is not None and max_frames < 1:
        raise UserError(f"max_frames must be >= 1 (or unset), got {max_frames}")
    if max_side is not None and max_side < 8:
        raise UserError(f"max_side must be >= 8 pixels (or unset), got {max_side}")


def iter_frames(path: Path | str, max_frames: int | None = None, stride: int = 1,
                max_side: int | None = None) -> Iterator[np.ndarray]:
    """Yield uint8 RGB frames (H, W, 3): every `stride`-th frame, at most `max_frames` of them,
    shrunk (INTER_AREA, aspect kept) so the longer side is at most `max_side` pixels.

    Raises UserError for a missing, corrupt or frameless video. A decode failure after some good
    frames (a truncated file) also raises, naming the frame index, rather than silently stopping.
    """
    _check_args(max_frames, stride, max_side)
    path = _check_path(path)
    reader = _open_reader(path)
    n_yielded = 0
    index = -1
    try:
        iterator = iter(reader)
        while max_frames is None or n_yielded < max_frames:
            try:
                frame = next(iterator)
            except StopIteration:
                break
            except Exception as exc:  # ffmpeg decode errors surface as RuntimeError/OSError
                raise UserError(f"video {path} could not be decoded after frame {index}: {exc}") from exc
            index += 1
            if index % stride:
                continue
            frame = np.asarray(frame)
            if frame.ndim == 2:
                frame = np.repeat(frame[:, :, None], 3, axis=2)
            yield np.ascontiguousarray(_resize_to_max_side(frame[:, :, :3], max_side))
            n_yielded += 1
    finally:
        reader.close()
    if n_yielded == 0:
        raise UserError(f"video {path} has no frames")


def read_video(path: Path | str, max_frames: int | None = None, stride: int = 1,
               max_side: int | None = None) -> tuple[np.ndarray, float]:
    """All selected frames as one uint8 array (N, H, W, 3) and the frame rate of the returned frames
    (the container's fps divided by `stride`). See `iter_frames` for the arguments and errors."""
    info = probe_video(path)
    if info.fps <= 0:
        raise UserError(f"video {path} reports no frame rate; re-encode it with a fixed frame rate")
    frames = np.stack(list(iter_frames(path, max_frames=max_frames, stride=stride, max_side=max_side)))
    return frames, info.fps / stride
