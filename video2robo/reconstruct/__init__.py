"""Object models as Gaussians in an object frame (metres): from a file, or lifted from one view."""

from video2robo.reconstruct.from_file import model_from_file
from video2robo.reconstruct.single_view import single_view_model

__all__ = ["model_from_file", "single_view_model"]
