"""A weight-free object model lifted from one view: the first-frame crop and mask, inflated.

No learned prior is available offline, so the model is a closed "pillow": each mask pixel gets a
front-surface depth offset that grows from the silhouette boundary towards its interior as a circle
profile (a sphere-like bulge whose thickness equals the local width), mirrored for the back surface,
which carries the colour of the front (a symmetry prior). Its size comes from a metric scale hint (the
object's largest extent in metres, or depth; or the size at which it stands on an ArUco marker's table,
parse.models); its frame is centred at the object with z along the
table's up direction when it is known (perception.table_normal, from a moving camera) and x along image
right as far as z allows; without it, x along image right and z along image down, the first frame's
search then choosing its pose.
"""

from __future__ import annotations

import numpy as np

from video2robo.errors import UserError


def single_view_model(rgb: np.ndarray, mask: np.ndarray, K: np.ndarray, extent_m: float,
                      max_gaussians: int = 6000, seed: int = 0, up: np.ndarray | None = None):
    """(GaussianSet in the object frame, T_cam_obj at the first frame, depth used).

    rgb (H,W,3) float in [0,1]; mask (H,W) bool; extent_m: the object's largest image-plane extent
    in metres (the scale hint) which sets the depth at which the silhouette is lifted; up: the table's
    up direction in the camera frame (None: unknown, see the module docstring).
    """
    import cv2

    from video2robo.gaussians import GaussianSet

    if mask.sum() < 16:
        raise UserError("the first-frame mask is (almost) empty; give a prompt that covers the object")
    if not extent_m > 0:
        raise UserError("the single-view model needs the object's size: pass --size NAME=METRES (its largest extent)")
    from video2robo.reconstruct.backends import depth_spanning, upright_in_camera

    ys, xs = np.nonzero(mask)
    f = 0.5 * (K[0, 0] + K[1, 1])
    z0 = depth_spanning(mask, K, extent_m)  # depth at which the silhouette spans extent_m
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(xs))[: max_gaussians // 2]
    u, v = xs[idx] + 0.5, ys[idx] + 0.5
    d = dist[ys[idx], xs[idx]]
    half_width = max(float(dist.max()), 1.0)
    m_per_px = z0 / f  # the silhouette's pixel size at the lifted depth
    # a circle profile of the mask's own half width (its widest inscribed circle), in metres: as deep
    # as the object is wide, not as long (a stick's largest extent made it a fin 30 cm deep, three
    # times its width once turned; a round mask gets the same bulge either way)
    thickness = m_per_px * np.sqrt(np.clip(2 * d * half_width - d * d, 0, None))  # 0 at the rim
    rays = np.linalg.inv(K) @ np.stack([u, v, np.ones_like(u)])
    front = (rays * (z0 - thickness)).T
    back = (rays * (z0 + thickness)).T
    colours = rgb[ys[idx], xs[idx]].astype(np.float32)
    points = np.concatenate([front, back])
    colours = np.concatenate([colours, colours])
    centre = points.mean(0)
    if up is None:
        # no up known: the frame the first frame's search was tuned with (z along camera +y, image down;
        # the search turns the model freely). Image up instead changed which pose the search found for the
        # can video's tray, and put the table plane edge-on to the camera (session 14's note)
        R_cam_obj = np.stack([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]], axis=1)
    else:  # z = the table's up, x = camera x made orthogonal to it, y = z × x
        R_cam_obj = upright_in_camera(up)
    T_cam_obj = np.eye(4)
    T_cam_obj[:3, :3], T_cam_obj[:3, 3] = R_cam_obj, centre
    local = (points - centre) @ R_cam_obj
    spacing = m_per_px * np.sqrt(mask.sum() / len(idx))  # the samples' spacing over the mask's area
    n = len(local)
    scales = np.full((n, 3), 0.6 * spacing)
    normals_cam = np.concatenate([-rays.T, rays.T])  # facing the camera / away from it
    normals = normals_cam @ R_cam_obj
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    quats = _quats_aligning_z(normals)
    scales[:, 2] = 0.1 * spacing
    g = GaussianSet.create(local, quats=quats, scales=scales, opacities=np.full(n, 0.95), rgb=colours)
    return g, T_cam_obj, z0


def _quats_aligning_z(normals: np.ndarray) -> np.ndarray:
    """wxyz quaternions rotating +z onto each unit normal."""
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(z, normals)
    s = np.linalg.norm(axis, axis=1)
    c = normals @ z
    angle = np.arctan2(s, c)
    axis = np.where(s[:, None] > 1e-9, axis / np.maximum(s, 1e-12)[:, None], np.array([1.0, 0, 0]))
    return np.concatenate([np.cos(angle / 2)[:, None], axis * np.sin(angle / 2)[:, None]], axis=1)
