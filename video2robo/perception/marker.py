"""An ArUco marker of known side lying flat on the table: the table's plane, its up direction and a
metric scale, from one image.

One view of objects fixes their size only up to a factor (farther and larger looks the same); a
printed marker of known side on the same table fixes it, and gives the world frame a table-level
origin with z up. The marker frame is OpenCV's: origin at the marker's centre, x toward its right
edge, y toward its top edge (as printed), z out of the table toward the camera.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from video2robo.errors import UserError

DEFAULT_DICTIONARY = "DICT_4X4_50"


@dataclass
class MarkerPose:
    marker_id: int
    T_cam_marker: np.ndarray  # (4, 4) metres
    corners: np.ndarray  # (4, 2) pixels: top-left, top-right, bottom-right, bottom-left (as printed)
    reprojection_px: float  # RMS corner reprojection error of the pose

    @property
    def up(self) -> np.ndarray:
        """The table's up direction (the marker's z) in the camera frame."""
        return self.T_cam_marker[:3, 2].copy()

    @property
    def plane(self) -> tuple[np.ndarray, np.ndarray]:
        """(n, foot): the table plane in the camera frame, unit normal n pointing up and a point on it
        (the marker's centre), as perception.camera_motion.table_plane gives it."""
        return self.up, self.T_cam_marker[:3, 3].copy()


def _dictionary(name: str):
    import cv2

    names = sorted(k for k in dir(cv2.aruco) if k.startswith("DICT_"))
    if name not in names:
        raise UserError(f"unknown ArUco dictionary '{name}'; pass --marker-dict one of {', '.join(names)}")
    return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name))


def marker_points(side: float) -> np.ndarray:
    """(4, 3) the marker's corners in its own frame, in the detector's order."""
    h = side / 2.0
    return np.array([[-h, h, 0.0], [h, h, 0.0], [h, -h, 0.0], [-h, -h, 0.0]])


def detect_marker(image: np.ndarray, K: np.ndarray, side: float, dictionary: str = DEFAULT_DICTIONARY,
                  marker_id: int | None = None) -> MarkerPose | None:
    """The pose of the ArUco marker (`marker_id`, else the largest one seen) in an RGB image, or None
    when there is none. `side`: the printed black square's side in metres."""
    import cv2

    if not side > 0:
        raise UserError(f"--marker must be the marker's side in metres, a positive number (got {side})")
    params = cv2.aruco.DetectorParameters()
    # corners refined to sub-pixel: the contour's polygon lies half a pixel inside the black square, and
    # a marker 36 px wide read 1 px small is 3 % (1.5 cm at 0.5 m) too far
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.ArucoDetector(_dictionary(dictionary), params)
    gray = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    corners, ids, _ = detector.detectMarkers(gray)
    if ids is None or len(ids) == 0:
        return None
    found = [(int(i), c.reshape(4, 2).astype(np.float64)) for i, c in zip(ids.ravel(), corners)]
    if marker_id is not None:
        found = [f for f in found if f[0] == marker_id]
        if not found:
            return None
    mid, px = max(found, key=lambda f: cv2.contourArea(f[1].astype(np.float32)))
    obj = marker_points(side)
    ok, rvec, tvec = cv2.solvePnP(obj, px, np.asarray(K, np.float64), None, flags=cv2.SOLVEPNP_IPPE_SQUARE)
    if not ok:
        return None
    R, _ = cv2.Rodrigues(rvec)
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = R, tvec.ravel()
    proj, _ = cv2.projectPoints(obj, rvec, tvec, np.asarray(K, np.float64), None)
    rms = float(np.sqrt(((proj.reshape(4, 2) - px) ** 2).sum(1).mean()))
    return MarkerPose(mid, T, px, rms)


def marker_image(marker_id: int, pixels: int, dictionary: str = DEFAULT_DICTIONARY, border_cells: int = 1) -> np.ndarray:
    """(pixels', pixels') uint8 image of a marker to print (or paste into a test image), with a white
    quiet zone of `border_cells` cells around the black square of `pixels` pixels."""
    import cv2

    d = _dictionary(dictionary)
    img = cv2.aruco.generateImageMarker(d, int(marker_id), int(pixels))
    cell = int(round(pixels / (d.markerSize + 2)))
    return cv2.copyMakeBorder(img, *(cell * border_cells,) * 4, cv2.BORDER_CONSTANT, value=255)


def printed_sheet(side: float, marker_id: int = 0, dictionary: str = DEFAULT_DICTIONARY) -> tuple[np.ndarray, np.ndarray]:
    """(image, (4, 3) corners in the marker frame, in the detector's order) of the printed sheet: the
    marker whose black square has side `side` (m), with its white quiet zone, which is part of the sheet."""
    px = 240
    tile = marker_image(marker_id, px, dictionary)
    return tile, marker_points(side * tile.shape[0] / px)  # the sheet: the square widened by its quiet zone


def paste_marker(image: np.ndarray, K: np.ndarray, T_cam_marker: np.ndarray, side: float, marker_id: int = 0,
                 dictionary: str = DEFAULT_DICTIONARY, keep: np.ndarray | None = None) -> np.ndarray:
    """`image` (RGB uint8) with the marker (and its white quiet zone) drawn flat at pose T_cam_marker,
    except over the pixels `keep` (what stands in front of it): synthetic views of a marker on the table."""
    import cv2

    tile, sheet = printed_sheet(side, marker_id, dictionary)
    p = sheet @ T_cam_marker[:3, :3].T + T_cam_marker[:3, 3]
    if (p[:, 2] <= 1e-6).any():
        return image.copy()
    uv = (p @ np.asarray(K, np.float64).T)[:, :2] / p[:, 2:3]
    n = tile.shape[0]
    H = cv2.getPerspectiveTransform(np.float32([[0, 0], [n, 0], [n, n], [0, n]]), uv.astype(np.float32))
    h, w = image.shape[:2]
    warped = cv2.warpPerspective(tile, H, (w, h), flags=cv2.INTER_AREA, borderValue=0)
    cover = cv2.warpPerspective(np.full_like(tile, 255), H, (w, h), flags=cv2.INTER_LINEAR, borderValue=0) / 255.0
    if keep is not None:
        cover = cover * ~keep
    out = image.astype(np.float32) * (1 - cover[..., None]) + warped[..., None].astype(np.float32) * cover[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
