"""Object models as Gaussians in an object frame (metres): from a file, or built from the first-frame crop
and mask by a model backend chosen by name (get_model_builder: "single-view", "trellis")."""

from video2robo.reconstruct.backends import MODEL_BUILDERS, LiftedModel, ModelBuilder, get_model_builder
from video2robo.reconstruct.from_file import model_from_file
from video2robo.reconstruct.single_view import single_view_model

__all__ = ["LiftedModel", "MODEL_BUILDERS", "ModelBuilder", "get_model_builder", "model_from_file", "single_view_model"]
