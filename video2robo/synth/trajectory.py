"""Keyframed 6D trajectories in continuous time: piecewise minimum-jerk between poses.

Continuous time (seconds) lets the capture sample poses at frame times *and* at sub-frame times
(motion blur) from one definition. Between consecutive keyframes the pose follows a minimum-jerk
profile (zero velocity and acceleration at every keyframe), which looks like a human hand motion and
makes "holds" (two equal keyframes) exactly still.
"""

from __future__ import annotations

import numpy as np

from video2robo.geometry import interpolate_pose, min_jerk


class PoseTrajectory:
    """Poses T_k (4x4) at strictly increasing times t_k; constant before t_0 and after t_last."""

    def __init__(self):
        self.times: list[float] = []
        self.poses: list[np.ndarray] = []

    def add(self, t: float, T: np.ndarray) -> "PoseTrajectory":
        if self.times and t <= self.times[-1]:
            raise ValueError(f"keyframe times must increase: {t} after {self.times[-1]}")
        self.times.append(float(t))
        self.poses.append(np.asarray(T, dtype=np.float64).copy())
        return self

    def then(self, duration: float, T: np.ndarray) -> "PoseTrajectory":
        """Append a keyframe `duration` seconds after the last one."""
        return self.add(self.times[-1] + duration, T)

    def hold(self, duration: float) -> "PoseTrajectory":
        return self.then(duration, self.poses[-1])

    @property
    def end_time(self) -> float:
        return self.times[-1]

    @property
    def last(self) -> np.ndarray:
        return self.poses[-1]

    def at(self, t) -> np.ndarray:
        """Pose(s) at time(s) t: (4,4) for a scalar, (N,4,4) for an array."""
        ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
        times = np.asarray(self.times)
        out = np.empty((len(ts), 4, 4))
        k = np.clip(np.searchsorted(times, ts, side="right") - 1, 0, len(times) - 1)
        for i, (ti, ki) in enumerate(zip(ts, k)):
            if ki >= len(times) - 1:
                out[i] = self.poses[-1]
            elif ti <= times[0]:
                out[i] = self.poses[0]
            elif np.array_equal(self.poses[ki], self.poses[ki + 1]):
                out[i] = self.poses[ki]  # a hold is exactly still
            else:
                s = float(min_jerk((ti - times[ki]) / (times[ki + 1] - times[ki])))
                out[i] = interpolate_pose(self.poses[ki], self.poses[ki + 1], s)
        return out[0] if np.ndim(t) == 0 else out
