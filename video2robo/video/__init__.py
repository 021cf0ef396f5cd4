"""Video input: decoding phone videos into frames (see reader.py)."""

from video2robo.video.reader import VideoInfo, iter_frames, probe_video, read_video

__all__ = ["VideoInfo", "iter_frames", "probe_video", "read_video"]
