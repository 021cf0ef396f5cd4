"""Registry of task objects: name → maker(rng) → `ObjectAsset`.

Add an object by adding a maker here. Makers are deterministic given the Generator.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from video2robo.errors import UserError
from video2robo.objects import procedural
from video2robo.objects.asset import ObjectAsset
from video2robo.objects.robosuite_objects import NAMES as ROBOSUITE_NAMES
from video2robo.objects.robosuite_objects import robosuite_object

OBJECTS: dict[str, Callable[[np.random.Generator], ObjectAsset]] = {
    "cup": procedural.cup,
    "bowl": procedural.bowl,
    "plate": procedural.plate,
    "cube_small": procedural.cube_small,
    "cube_large": procedural.cube_large,
    "drumstick": procedural.drumstick,
    "drum": procedural.drum,
    "brush": procedural.brush,
    "lid": procedural.lid,
    "box": procedural.box_container,
    "board": procedural.board,
    **{name: (lambda rng, _n=name: robosuite_object(_n, rng)) for name in ROBOSUITE_NAMES},
}


def make_object(name: str, seed: int | np.random.Generator = 0) -> ObjectAsset:
    """The object called `name`, its colours drawn from `seed`."""
    if name not in OBJECTS:
        raise UserError(f"unknown object '{name}'; choose one of: {', '.join(sorted(OBJECTS))}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return OBJECTS[name](rng)
