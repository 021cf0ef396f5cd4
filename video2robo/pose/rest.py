"""Poses of objects at rest on a support: the table, or the top of another object.

A silhouette fixes an object's pose worst along its viewing ray: nearer and smaller looks like further
and larger, and a thin stick's tilt toward the camera is hardly seen at all. Tracked through a carry
under the hand, that is where a pose drifts (a put-down drumstick ended 35 cm too far, a stacked cube
3 cm too near). An object at rest, though, stands on something: its lowest point touches the table or
the top of the object under it, and it rests the way it rested on its first frame (upright, or lying
on the same side), turned about the table's normal. That leaves three unknowns, the turn and the
position on the support, and the silhouette fixes those well; the depth follows from the support.

Everything here is in the first camera's frame (`T0` poses), where the table `plane` is (n, foot):
n the table's up direction, foot a point on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from video2robo.geometry.so3 import axis_angle_to_rotmat, frame_around

Plane = tuple[np.ndarray, np.ndarray]


@dataclass
class RestSearchOptions:
    yaw_steps: int = 72  # turns about the table normal tried, over a full turn
    centre_iters: int = 2  # times the silhouette's centroid is moved onto the mask's, per turn
    refine_starts: int = 3  # best turns refined by a local search...
    yaw_step0: float = np.deg2rad(4.0)  # ...from these steps (turn, rad; position, pixels of the image)...
    px_step0: float = 2.0
    refine_levels: int = 4  # ...halved this many times
    min_ray_slope: float = 0.1  # a viewing ray this parallel to the table cannot place an object on it
    footprint_frac: float = 0.9  # another object's points within this share of the object's radius
    # (in the table's plane) are under it: the highest of them is a support
    colour_weight: float = 1.0  # the refined poses (each start and its half-turn twin) are ranked by IoU
    # minus this × the colour cost, when one is given: a tapered stick's silhouette hardly tells its
    # ends apart, its colours do (the put-down drumstick on its own mask: the half-turn twin IoU 0.82,
    # colour 0.41; the true pose IoU 0.74, colour 0.27)


def heights(T0: np.ndarray, points: np.ndarray, plane: Plane) -> np.ndarray:
    """Height (m) above the table of each model point at pose T0."""
    n, foot = plane
    return (points @ T0[:3, :3].T + T0[:3, 3] - foot) @ n


def slide_onto(T0: np.ndarray, points: np.ndarray, plane: Plane, height: float, eye: np.ndarray,
               min_factor: float = 0.25, max_factor: float = 2.0) -> np.ndarray:
    """T0 moved along the ray from the camera centre `eye` through its origin until its lowest point is
    at `height` above the table: the silhouette keeps its place and shape, only its scale changes. T0
    itself when that would take it more than `max_factor` times as far from the camera, or less than
    `min_factor` times: a ray nearly along the table (a single-view model's guessed up put the plane
    edge-on) meets it far away or behind the camera (a cup's first pose was slid 75 cm, through the
    camera). Sliding back towards the camera is what bounds a carried stick sinking away (0.6 times)."""
    n, _ = plane
    ray = T0[:3, 3] - eye
    slope = float(ray @ n)
    if abs(slope) < 1e-9:
        return T0.copy()
    factor = 1.0 + (height - heights(T0, points, plane).min()) / slope
    if not min_factor <= factor <= max_factor:
        return T0.copy()
    out = T0.copy()
    out[:3, 3] = eye + ray * factor
    return out


def support_heights(T0: np.ndarray, points: np.ndarray, plane: Plane, others: list[tuple[np.ndarray, np.ndarray]],
                    footprint_frac: float = 0.9) -> list[float]:
    """Heights the object at T0 could rest at: the table (0) and, for each other object (its T0 and
    model points) with points under this one's footprint, the highest of those (a plate's floor under
    a can, not its rim; a box's lid)."""
    n, foot = plane
    e1, e2 = frame_around(n)[:, :2].T

    def in_plane(p):
        return np.stack([(p - foot) @ e1, (p - foot) @ e2], axis=1)

    mine = in_plane(points @ T0[:3, :3].T + T0[:3, 3])
    centre = mine.mean(axis=0)
    radius = footprint_frac * float(np.linalg.norm(mine - centre, axis=1).max())
    out = [0.0]
    for T_other, pts in others:
        p = pts @ T_other[:3, :3].T + T_other[:3, 3]
        under = np.linalg.norm(in_plane(p) - centre, axis=1) <= radius
        if under.any():
            out.append(float(((p[under] - foot) @ n).max()))
    return out


def turned(R0: np.ndarray, n: np.ndarray, yaw: float) -> np.ndarray:
    """R0 turned by yaw (rad) about the unit axis n."""
    return axis_angle_to_rotmat(np.asarray(n, np.float64) * yaw) @ R0


def placed(R0: np.ndarray, points: np.ndarray, plane: Plane, height: float, eye: np.ndarray, ray: np.ndarray,
           min_slope: float) -> np.ndarray | None:
    """The pose with rotation R0 whose model centroid lies on the viewing ray (from `eye`, direction
    `ray`) and whose lowest point is at `height` above the table; None when the ray runs (almost)
    along the table or meets that height behind the camera."""
    n, foot = plane
    ray = ray / np.linalg.norm(ray)
    slope = float(ray @ n)
    if abs(slope) < min_slope:
        return None
    rotated = points @ R0.T
    centroid = rotated.mean(axis=0)
    low = float((rotated @ n).min())
    # n·(eye + s ray - centroid + R x - foot) is lowest at `height`
    s = (height - low + float(n @ centroid) - float(n @ (eye - foot))) / slope
    if s <= 0:
        return None
    T = np.eye(4)
    T[:3, :3] = R0
    T[:3, 3] = eye + s * ray - centroid
    return T


def candidate_heights(R0: np.ndarray, points: np.ndarray, plane: Plane, eye: np.ndarray, ray: np.ndarray,
                      others: list[tuple[np.ndarray, np.ndarray]], opt: RestSearchOptions) -> list[float]:
    """Support heights for an object seen along `ray`: the table, and the top of each other object it
    would stand on, found by placing it on the ray at that object's highest point (its tracked depth
    may be far off, so its own position cannot say what is under it)."""
    out = [0.0]
    for T_other, pts in others:
        top = float(heights(T_other, pts, plane).max())
        T = placed(R0, points, plane, top, eye, ray, opt.min_ray_slope)
        if T is None:
            continue
        for h in support_heights(T, points, plane, [(T_other, pts)], opt.footprint_frac)[1:]:
            if all(abs(h - g) > 0.005 for g in out):
                out.append(h)
    return out


def rest_search(silhouette_iou, centroid_px, target: np.ndarray, K: np.ndarray, C: np.ndarray, points: np.ndarray,
                plane: Plane, tilts: list[np.ndarray], others: list[tuple[np.ndarray, np.ndarray]],
                opt: RestSearchOptions | None = None, colour_cost=None) -> tuple[np.ndarray | None, float]:
    """The best pose (T0, the first camera's frame) of an object resting on a support, and its
    silhouette IoU; (None, 0) when none can be placed. `silhouette_iou(T_cam_obj)` scores a pose seen
    from the camera now (C = T_cam_cam0) and `centroid_px(T_cam_obj)` gives its silhouette's centroid
    (None when it shows no pixel), to be brought onto `target`, the mask's (pixels); `points` are the
    model's (scaled); `tilts` the rotations (first camera's frame) it may rest in up to a turn about the
    table's normal. Every turn is tried on every
    support height, the silhouette's centroid moved onto the mask's; the best few are refined by a local
    search over the turn and the position. With `colour_cost(T_cam_obj)` (lower is better) each best
    turn's half-turn twin is refined too, and the refined poses are ranked by IoU minus
    `colour_weight` × their colour cost."""
    opt = opt or RestSearchOptions()
    n = plane[0]
    C_inv = np.linalg.inv(C)
    eye, R_back, K_inv = C_inv[:3, 3], C_inv[:3, :3], np.linalg.inv(K)
    target = np.asarray(target, np.float64)

    def ray(px):
        return R_back @ (K_inv @ np.array([px[0], px[1], 1.0]))

    def pose(R0, h, px):
        return placed(R0, points, plane, h, eye, ray(px), opt.min_ray_slope)

    levels = candidate_heights(tilts[0], points, plane, eye, ray(target), others, opt)
    found = []  # (iou, tilt, height, yaw, px)
    for R_tilt in tilts:
        for h in levels:
            for yaw in np.arange(opt.yaw_steps) * (2 * np.pi / opt.yaw_steps):
                R0 = turned(R_tilt, n, yaw)
                px = target.copy()
                T0 = pose(R0, h, px)
                for _ in range(opt.centre_iters):
                    if T0 is None:
                        break
                    c = centroid_px(C @ T0)
                    if c is None:
                        T0 = None
                        break
                    px = px + (target - np.asarray(c))
                    T0 = pose(R0, h, px)
                if T0 is not None:
                    found.append((silhouette_iou(C @ T0), R_tilt, h, yaw, px))
    if not found:
        return None, 0.0
    found.sort(key=lambda f: -f[0])
    starts = found[: opt.refine_starts]
    if colour_cost is not None:
        for _, R_tilt, h, yaw, px in list(starts):
            T0 = pose(turned(R_tilt, n, yaw + np.pi), h, px)
            if T0 is not None:
                starts.append((silhouette_iou(C @ T0), R_tilt, h, yaw + np.pi, px))
    best_rank, best_iou, best = -np.inf, -1.0, None
    for score, R_tilt, h, yaw, px in starts:
        x = np.array([yaw, px[0], px[1]])
        steps = np.array([opt.yaw_step0, opt.px_step0, opt.px_step0])
        for _ in range(opt.refine_levels):
            improved = True
            while improved:
                improved = False
                for k in range(3):
                    for sign in (1.0, -1.0):
                        y = x.copy()
                        y[k] += sign * steps[k]
                        T0 = pose(turned(R_tilt, n, y[0]), h, y[1:])
                        s = -1.0 if T0 is None else silhouette_iou(C @ T0)
                        if s > score + 1e-6:
                            x, score, improved = y, s, True
                            break
            steps /= 2
        T0 = pose(turned(R_tilt, n, x[0]), h, x[1:])
        rank = score if colour_cost is None else score - opt.colour_weight * colour_cost(C @ T0)
        if rank > best_rank:
            best_rank, best_iou, best = rank, score, T0
    return best, float(best_iou)
