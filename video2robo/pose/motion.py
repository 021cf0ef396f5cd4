"""The motion model a tracker predicts the next pose with."""

from __future__ import annotations

import numpy as np


def constant_velocity(T_before: np.ndarray | None, T_last: np.ndarray, max_step: float) -> np.ndarray:
    """The pose one step on at the last step's velocity, T_last · T_before⁻¹ · T_last; T_last itself when
    there is no step before it, or when the predicted step moves further than `max_step` (m): an
    implausible step (a failed fit) is not extrapolated."""
    if T_before is None:
        return T_last
    T = T_last @ np.linalg.inv(T_before) @ T_last
    return T if np.linalg.norm(T[:3, 3] - T_last[:3, 3]) <= max_step else T_last
