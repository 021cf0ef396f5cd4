"""Real2Sim: one video in, a demo folder out (`video2robo parse`)."""

from video2robo.parse.config import ParseConfig
from video2robo.parse.pipeline import run_parse

__all__ = ["ParseConfig", "run_parse"]
