"""Synthetic phone-like videos of the six tasks rendered by MuJoCo, with ground truth for every
perception stage (poses, masks, depth, grasp/release/task frames). Format: see `synth.output`."""

from video2robo.synth.capture import Capture, CaptureSettings, capture
from video2robo.synth.output import FORMAT_VERSION, read_gt, write_capture
from video2robo.synth.tasks import TASKS, make_task

__all__ = ["FORMAT_VERSION", "TASKS", "Capture", "CaptureSettings", "capture", "make_task", "read_gt", "write_capture"]
