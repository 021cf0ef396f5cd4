"""Video reading: frames, fps, stride/max_frames/max_side, and UserError for bad inputs."""

import numpy as np
import pytest

from video2robo.errors import UserError
from video2robo.video import iter_frames, probe_video, read_video


@pytest.fixture
def small_mp4(tmp_path):
    import imageio.v2 as iio

    path = tmp_path / "clip.mp4"
    frames = []
    for k in range(12):  # a bright square moving right, so frame order is checkable
        f = np.full((64, 96, 3), 30, np.uint8)
        f[20:40, 4 + 6 * k: 20 + 6 * k] = 220
        frames.append(f)
    with iio.get_writer(str(path), fps=24, macro_block_size=1) as w:
        for f in frames:
            w.append_data(f)
    return path, np.stack(frames)


def test_read_video_frames_and_fps(small_mp4):
    path, truth = small_mp4
    frames, fps = read_video(path)
    assert frames.shape == truth.shape and frames.dtype == np.uint8
    assert fps == pytest.approx(24.0)
    assert np.abs(frames.astype(int) - truth).mean() < 8  # lossy codec, same content


def test_stride_max_frames_max_side(small_mp4):
    path, truth = small_mp4
    frames, fps = read_video(path, max_frames=3, stride=2, max_side=48)
    assert frames.shape == (3, 32, 48, 3)
    assert fps == pytest.approx(12.0)
    # the square moved 12 px (full res) between the kept frames: its centre column grows by ~6 px here
    cols = [np.nonzero(f[:, :, 0].max(axis=0) > 128)[0].mean() for f in frames]
    assert np.diff(cols) == pytest.approx([6.0, 6.0], abs=1.0)
    assert probe_video(path).width == 96 and probe_video(path).height == 64


def test_missing_empty_corrupt_video(tmp_path):
    with pytest.raises(UserError, match="not found"):
        read_video(tmp_path / "nope.mp4")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(UserError, match="empty"):
        read_video(empty)
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    with pytest.raises(UserError, match="corrupt.mp4"):
        read_video(corrupt)
    with pytest.raises(UserError, match="not a file"):
        read_video(tmp_path)


def test_bad_arguments(small_mp4):
    path, _ = small_mp4
    with pytest.raises(UserError, match="stride"):
        list(iter_frames(path, stride=0))
    with pytest.raises(UserError, match="max_frames"):
        read_video(path, max_frames=0)
