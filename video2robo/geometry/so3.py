"""Rotations: quaternions (w, x, y, z), rotation matrices, axis-angle vectors and the 6D representation.

Every function accepts numpy arrays or torch tensors with arbitrary leading batch axes and returns the
same kind (torch keeps autograd). Quaternions are Hamilton, scalar first, unit norm; q and -q are the
same rotation.
"""

from __future__ import annotations

from video2robo.geometry import _array as A

_EPS = 1e-12


def quat_normalize(q):
    return q / A.clip(A.norm(q, keepdims=True), _EPS, None)


def quat_multiply(q1, q2):
    """Hamilton product q1 ⊗ q2 (apply q2 first, then q1)."""
    w1, x1, y1, z1 = q1[..., 0], q1[..., 1], q1[..., 2], q1[..., 3]
    w2, x2, y2, z2 = q2[..., 0], q2[..., 1], q2[..., 2], q2[..., 3]
    return A.stack(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ]
    )


def quat_conjugate(q):
    return A.cat([q[..., :1], -q[..., 1:]])


def quat_inverse(q):
    return quat_conjugate(q) / A.clip((q * q).sum(-1)[..., None], _EPS, None)


def quat_canonical(q):
    """The representative with w >= 0 (q and -q are the same rotation)."""
    return q * A.asarray_like(A.xp(q).where(q[..., :1] < 0, -1.0, 1.0), q)


def quat_to_rotmat(q):
    """Rotation matrix of a quaternion (normalised first, so any non-zero q is accepted)."""
    q = quat_normalize(q)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    rows = [
        A.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)]),
        A.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)]),
        A.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]),
    ]
    return A.stack(rows, axis=-2)


def rotmat_to_quat(R):
    """Quaternion (w >= 0) of a rotation matrix; stable for all rotations (Shepperd's method)."""
    xp = A.xp(R)
    m00, m11, m22 = R[..., 0, 0], R[..., 1, 1], R[..., 2, 2]
    trace = m00 + m11 + m22
    # Four candidate solutions; pick the one with the largest denominator for each matrix.
    cand = A.stack(
        [
            A.stack([1 + trace, R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]]),
            A.stack([R[..., 2, 1] - R[..., 1, 2], 1 + m00 - m11 - m22, R[..., 0, 1] + R[..., 1, 0], R[..., 0, 2] + R[..., 2, 0]]),
            A.stack([R[..., 0, 2] - R[..., 2, 0], R[..., 0, 1] + R[..., 1, 0], 1 - m00 + m11 - m22, R[..., 1, 2] + R[..., 2, 1]]),
            A.stack([R[..., 1, 0] - R[..., 0, 1], R[..., 0, 2] + R[..., 2, 0], R[..., 1, 2] + R[..., 2, 1], 1 - m00 - m11 + m22]),
        ],
        axis=-2,
    )
    diag = A.stack([trace, m00, m11, m22])
    best = diag.argmax(-1)
    if xp.__name__ == "torch":
        q = xp.gather(cand, -2, best[..., None, None].expand(*best.shape, 1, 4))[..., 0, :]
    else:
        q = xp.take_along_axis(cand, best[..., None, None], axis=-2)[..., 0, :]
    return quat_canonical(quat_normalize(q))


def quat_apply(q, v):
    """Rotate vectors v by quaternion q."""
    return (quat_to_rotmat(q) @ v[..., None])[..., 0]


def axis_angle_to_quat(aa):
    """Quaternion of an axis-angle (rotation) vector; smooth at zero."""
    xp = A.xp(aa)
    theta = A.norm(aa, keepdims=True)
    half = 0.5 * theta
    small = theta < 1e-6
    # sin(θ/2)/θ with a Taylor expansion near 0 so gradients stay finite.
    safe = xp.where(small, xp.ones_like(theta), theta)
    k = xp.where(small, 0.5 - theta * theta / 48.0, xp.sin(0.5 * safe) / safe)
    return A.cat([xp.cos(half), aa * k])


def quat_to_axis_angle(q):
    """Axis-angle vector (angle in [0, π]) of a quaternion."""
    xp = A.xp(q)
    q = quat_canonical(quat_normalize(q))
    v = q[..., 1:]
    s = A.norm(v, keepdims=True)
    angle = 2 * xp.arctan2(s, q[..., :1])
    small = s < 1e-6
    safe = xp.where(small, xp.ones_like(s), s)
    k = xp.where(small, 2.0 / A.clip(q[..., :1], _EPS, None) , angle / safe)
    return v * k


def axis_angle_to_rotmat(aa):
    return quat_to_rotmat(axis_angle_to_quat(aa))


def rotmat_to_axis_angle(R):
    return quat_to_axis_angle(rotmat_to_quat(R))


def skew(v):
    """Cross-product matrix [v]x."""
    z = v[..., 0] * 0
    return A.stack(
        [
            A.stack([z, -v[..., 2], v[..., 1]]),
            A.stack([v[..., 2], z, -v[..., 0]]),
            A.stack([-v[..., 1], v[..., 0], z]),
        ],
        axis=-2,
    )


def rot6d_to_rotmat(d6):
    """Rotation from the continuous 6D representation (first two columns, Gram–Schmidt; Zhou et al. 2019)."""
    a1, a2 = d6[..., 0:3], d6[..., 3:6]
    b1 = a1 / A.clip(A.norm(a1, keepdims=True), _EPS, None)
    b2 = a2 - (b1 * a2).sum(-1)[..., None] * b1
    b2 = b2 / A.clip(A.norm(b2, keepdims=True), _EPS, None)
    b3 = A.cross(b1, b2)
    return A.stack([b1, b2, b3], axis=-1)


def rotmat_to_rot6d(R):
    """First two columns of R, concatenated (inverse of rot6d_to_rotmat on rotations)."""
    return A.cat([R[..., :, 0], R[..., :, 1]])


def quat_slerp(q0, q1, t):
    """Spherical linear interpolation along the shorter arc; t broadcasts against the batch axes."""
    xp = A.xp(q0)
    q0 = quat_normalize(q0)
    q1 = quat_normalize(q1)
    t = A.asarray_like(t, q0)
    if t.ndim < q0.ndim:
        t = t[..., None]
    dot = (q0 * q1).sum(-1)[..., None]
    q1 = xp.where(dot < 0, -q1, q1)
    dot = xp.abs(dot)
    near = dot > 0.9995
    theta = xp.arccos(A.clip(dot, -1.0, 1.0))
    sin_t = xp.sin(theta)
    safe = xp.where(near, xp.ones_like(sin_t), sin_t)
    w0 = xp.where(near, 1 - t, xp.sin((1 - t) * theta) / safe)
    w1 = xp.where(near, t, xp.sin(t * theta) / safe)
    return quat_normalize(w0 * q0 + w1 * q1)


def rotation_angle(R_a, R_b):
    """Geodesic angle (radians) between two rotation matrices."""
    xp = A.xp(R_a)
    R = A.swap_last(R_a) @ R_b
    cos = (R[..., 0, 0] + R[..., 1, 1] + R[..., 2, 2] - 1) / 2
    return xp.arccos(A.clip(cos, -1.0, 1.0))


def frame_around(z, hint=(1.0, 0.0, 0.0), fallback=(0.0, 1.0, 0.0)):
    """(3, 3) rotation whose columns are x, y and the unit vector z: x = z × hint normalised (z × fallback
    when z is within about 25° of the unit vector hint), y = z × x. For a direction whose turn about
    itself does not matter: a plane's in-plane axes, the sides of a viewing ray or a grasp axis."""
    h = A.asarray_like(hint, z)
    x = A.cross(z, h if abs(float((z * h).sum())) < 0.9 else A.asarray_like(fallback, z))
    x = x / A.xp(z).linalg.norm(x)
    return A.stack([x, A.cross(z, x), z], axis=-1)
