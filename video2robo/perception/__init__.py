"""Perception: first-frame prompts → object masks → point tracks → masks in every frame.

Typical use (parse pipeline):
    prompts = parse_prompts(["cup:box=120,80,220,200"])          # or load_prompts_json(path)
    masks0 = first_frame_masks(frames[0], prompts, get_segmenter("grabcut"))
    result = track_objects(frames, masks0, get_tracker("lk"))     # PerceptionResult
"""

from video2robo.perception.masks import iou, load_mask
from video2robo.perception.prompts import (ObjectPrompt, load_prompts_json, parse_prompt, parse_prompts,
                                           scale_prompts, validate_prompts)
from video2robo.perception.propagate import ObjectMasks, PerceptionResult, PropagationOptions, track_objects
from video2robo.perception.registry import DEPTH_BACKENDS, SEGMENTERS, TRACKERS, get_depth_backend, get_segmenter, get_tracker
from video2robo.perception.segment import Segmenter, first_frame_masks
from video2robo.perception.track import PointTracker, SamplingOptions, Tracks, sample_points_in_mask

__all__ = [
    "ObjectMasks", "ObjectPrompt", "PerceptionResult", "PointTracker", "PropagationOptions", "SEGMENTERS",
    "SamplingOptions", "Segmenter", "TRACKERS", "Tracks", "first_frame_masks", "get_segmenter", "get_tracker",
    "iou", "load_mask", "load_prompts_json", "parse_prompt", "parse_prompts", "sample_points_in_mask",
    "scale_prompts", "track_objects", "validate_prompts",
]
