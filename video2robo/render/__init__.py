"""Differentiable Gaussian rendering: `render(gaussians, cameras, backend="auto")`."""

from video2robo.render.api import BACKENDS, RenderOutput, render

__all__ = ["BACKENDS", "RenderOutput", "render"]
