"""Property tests of the geometry module, on seeded random batches, for numpy and torch alike."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from video2robo.geometry import (
    PinholeCamera,
    axis_angle_to_quat,
    axis_angle_to_rotmat,
    interpolate_pose,
    interpolate_pose_min_jerk,
    look_at,
    make_pose,
    min_jerk,
    pose_compose,
    pose_inverse,
    project_points,
    quat_multiply,
    quat_slerp,
    quat_to_axis_angle,
    quat_to_rotmat,
    rot6d_to_rotmat,
    rotation_angle,
    rotmat_to_axis_angle,
    rotmat_to_quat,
    rotmat_to_rot6d,
    se3_exp,
    se3_log,
    transform_points,
)

N = 256
BACKENDS = ["numpy", "torch"]


def arr(x, backend):
    """float64 array of the requested kind."""
    return torch.as_tensor(np.asarray(x), dtype=torch.float64) if backend == "torch" else np.asarray(x, dtype=np.float64)


def npy(x):
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def random_quats(rng, n=N):
    q = rng.normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def random_poses(rng, n=N):
    R = npy(quat_to_rotmat(random_quats(rng, n)))
    return make_pose(R, rng.normal(size=(n, 3)))


def same_rotation_quat(a, b, atol):
    """q and -q are the same rotation: compare up to sign."""
    a, b = npy(a), npy(b)
    sign = np.sign((a * b).sum(-1, keepdims=True))
    return np.allclose(a, sign * b, atol=atol)


@pytest.mark.parametrize("backend", BACKENDS)
def test_quat_rotmat_round_trip_and_rotmat_is_a_rotation(backend):
    rng = np.random.default_rng(0)
    q = arr(random_quats(rng), backend)
    R = quat_to_rotmat(q)
    Rn = npy(R)
    eye = np.broadcast_to(np.eye(3), Rn.shape)
    assert np.allclose(np.swapaxes(Rn, -1, -2) @ Rn, eye, atol=1e-12)
    assert np.allclose(np.linalg.det(Rn), 1.0, atol=1e-12)
    assert same_rotation_quat(rotmat_to_quat(R), q, atol=1e-10)
    assert (npy(rotmat_to_quat(R))[:, 0] >= 0).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_rotmat_to_quat_at_half_turns(backend):
    """Angles of exactly π (trace −1) are where naive formulas divide by zero."""
    axes = np.eye(3).tolist() + [[1 / math.sqrt(2), 1 / math.sqrt(2), 0.0], [0.6, 0.0, 0.8]]
    aa = arr(np.asarray(axes) * math.pi, backend)
    R = axis_angle_to_rotmat(aa)
    back = quat_to_rotmat(rotmat_to_quat(R))
    assert np.allclose(npy(back), npy(R), atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_quat_multiply_matches_matrix_product(backend):
    rng = np.random.default_rng(1)
    q1, q2 = arr(random_quats(rng), backend), arr(random_quats(rng), backend)
    lhs = quat_to_rotmat(quat_multiply(q1, q2))
    rhs = quat_to_rotmat(q1) @ quat_to_rotmat(q2)
    assert np.allclose(npy(lhs), npy(rhs), atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pose_compose_inverse_identity_and_closure(backend):
    rng = np.random.default_rng(2)
    T1, T2 = arr(random_poses(rng), backend), arr(random_poses(rng), backend)
    eye = np.broadcast_to(np.eye(4), (N, 4, 4))
    assert np.allclose(npy(pose_compose(T1, pose_inverse(T1))), eye, atol=1e-12)
    assert np.allclose(npy(pose_compose(pose_inverse(T1), T1)), eye, atol=1e-12)
    assert np.allclose(npy(pose_inverse(pose_inverse(T1))), npy(T1), atol=1e-12)
    P = npy(pose_compose(T1, T2))
    R = P[:, :3, :3]
    assert np.allclose(np.swapaxes(R, -1, -2) @ R, np.broadcast_to(np.eye(3), R.shape), atol=1e-12)
    assert np.allclose(np.linalg.det(R), 1.0, atol=1e-12)
    assert np.allclose(P[:, 3], [0, 0, 0, 1])
    # (T1 T2)⁻¹ = T2⁻¹ T1⁻¹, and transforming points composes the same way
    assert np.allclose(npy(pose_inverse(pose_compose(T1, T2))), npy(pose_compose(pose_inverse(T2), pose_inverse(T1))), atol=1e-10)
    p = arr(rng.normal(size=(N, 5, 3)), backend)
    assert np.allclose(npy(transform_points(pose_compose(T1, T2), p)), npy(transform_points(T1, transform_points(T2, p))), atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_axis_angle_round_trip_including_near_zero_and_near_pi(backend):
    rng = np.random.default_rng(3)
    axis = rng.normal(size=(N, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    angles = np.concatenate([
        rng.uniform(0, math.pi - 1e-3, N - 64),
        np.geomspace(1e-9, 1e-3, 32),  # near zero
        math.pi - np.geomspace(1e-7, 1e-3, 32),  # near π (angle < π so the axis sign is unique)
    ])
    aa = arr(axis * angles[:, None], backend)
    back = npy(quat_to_axis_angle(axis_angle_to_quat(aa)))
    assert np.allclose(back, npy(aa), atol=1e-9)
    back_R = npy(rotmat_to_axis_angle(axis_angle_to_rotmat(aa)))
    assert np.allclose(back_R, npy(aa), atol=1e-6)
    # at exactly π the axis sign is ambiguous, but the rotation must survive
    half_turn = arr(axis[:8] * math.pi, backend)
    R_back = axis_angle_to_rotmat(rotmat_to_axis_angle(axis_angle_to_rotmat(half_turn)))
    assert np.allclose(npy(R_back), npy(axis_angle_to_rotmat(half_turn)), atol=1e-9)


def test_axis_angle_rotates_about_its_axis():
    aa = np.array([0.0, 0.0, math.pi / 2])
    assert np.allclose(axis_angle_to_rotmat(aa) @ [1.0, 0, 0], [0, 1.0, 0], atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rot6d_round_trip_and_gram_schmidt(backend):
    rng = np.random.default_rng(4)
    R = quat_to_rotmat(arr(random_quats(rng), backend))
    assert np.allclose(npy(rot6d_to_rotmat(rotmat_to_rot6d(R))), npy(R), atol=1e-12)
    # any generic 6-vector gives a rotation
    R2 = npy(rot6d_to_rotmat(arr(rng.normal(size=(N, 6)), backend)))
    assert np.allclose(np.swapaxes(R2, -1, -2) @ R2, np.broadcast_to(np.eye(3), R2.shape), atol=1e-12)
    assert np.allclose(np.linalg.det(R2), 1.0, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_slerp_endpoints_and_constant_angular_speed(backend):
    rng = np.random.default_rng(5)
    q0, q1 = random_quats(rng, 64), random_quats(rng, 64)
    q0_, q1_ = arr(q0, backend), arr(q1, backend)
    assert same_rotation_quat(quat_slerp(q0_, q1_, 0.0), q0, atol=1e-12)
    assert same_rotation_quat(quat_slerp(q0_, q1_, 1.0), q1, atol=1e-12)
    R0 = quat_to_rotmat(q0_)
    total = npy(rotation_angle(R0, quat_to_rotmat(q1_)))
    for t in (0.1, 0.25, 0.5, 0.8):
        Rt = quat_to_rotmat(quat_slerp(q0_, q1_, t))
        assert np.allclose(npy(rotation_angle(R0, Rt)), t * total, atol=1e-7)
        assert np.allclose(npy(rotation_angle(Rt, quat_to_rotmat(q1_))), (1 - t) * total, atol=1e-7)
    # takes the short arc even when the quaternions have opposite signs
    assert same_rotation_quat(quat_slerp(q0_, -q0_, 0.5), q0, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_se3_exp_log_round_trip(backend):
    rng = np.random.default_rng(6)
    w = rng.normal(size=(N, 3))
    w *= (rng.uniform(0, math.pi - 1e-3, N) / np.linalg.norm(w, axis=1))[:, None]
    w[:16] *= 1e-8  # near the identity
    xi = arr(np.concatenate([rng.normal(size=(N, 3)), w], axis=1), backend)
    assert np.allclose(npy(se3_log(se3_exp(xi))), npy(xi), atol=1e-8)
    T = arr(random_poses(rng), backend)
    assert np.allclose(npy(se3_exp(se3_log(T))), npy(T), atol=1e-8)


def test_se3_exp_of_pure_translation_and_pure_rotation():
    T = se3_exp(np.array([1.0, 2.0, 3.0, 0.0, 0.0, 0.0]))
    assert np.allclose(T, make_pose(np.eye(3), np.array([1.0, 2.0, 3.0])))
    T = se3_exp(np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.3]))
    assert np.allclose(T[:3, :3], axis_angle_to_rotmat(np.array([0.0, 0.0, 0.3])))
    assert np.allclose(T[:3, 3], 0.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_interpolate_pose_endpoints_and_midpoint(backend):
    rng = np.random.default_rng(7)
    T0, T1 = arr(random_poses(rng, 8), backend), arr(random_poses(rng, 8), backend)
    assert np.allclose(npy(interpolate_pose(T0, T1, 0.0)), npy(T0), atol=1e-10)
    assert np.allclose(npy(interpolate_pose(T0, T1, 1.0)), npy(T1), atol=1e-10)
    mid = interpolate_pose(T0, T1, 0.5)
    assert np.allclose(npy(mid)[:, :3, 3], 0.5 * (npy(T0) + npy(T1))[:, :3, 3], atol=1e-12)
    a0 = npy(rotation_angle(T0[:, :3, :3], mid[:, :3, :3]))
    a1 = npy(rotation_angle(mid[:, :3, :3], T1[:, :3, :3]))
    assert np.allclose(a0, a1, atol=1e-7)
    many = npy(interpolate_pose(T0, T1, arr(np.linspace(0, 1, 5), backend)))
    assert many.shape == (5, 8, 4, 4)
    assert np.allclose(many[0], npy(T0), atol=1e-10) and np.allclose(many[-1], npy(T1), atol=1e-10)


def test_min_jerk_profile():
    s = np.linspace(0, 1, 101)
    y = min_jerk(s)
    assert y[0] == 0.0 and y[-1] == 1.0 and abs(y[50] - 0.5) < 1e-12
    assert (np.diff(y) >= 0).all()
    v = np.gradient(y, s)
    assert abs(v[0]) < 1e-3 and abs(v[-1]) < 1e-3
    rng = np.random.default_rng(8)
    T0, T1 = random_poses(rng, 1)[0], random_poses(rng, 1)[0]
    path = interpolate_pose_min_jerk(T0, T1, 11)
    assert path.shape == (11, 4, 4)
    assert np.allclose(path[0], T0, atol=1e-10) and np.allclose(path[-1], T1, atol=1e-10)


@settings(max_examples=60, deadline=None)
@given(
    eye=st.tuples(*[st.floats(-3, 3) for _ in range(3)]),
    target=st.tuples(*[st.floats(-1, 1) for _ in range(3)]),
)
def test_look_at_puts_target_at_image_centre_in_front(eye, target):
    eye, target = np.array(eye), np.array(target)
    if np.linalg.norm(eye - target) < 0.1:
        return  # camera on top of its target has no defined view direction
    cam = PinholeCamera.from_fov(60.0, 128, 96, look_at(eye, target))
    uv, z = cam.project(target[None])
    assert np.allclose(uv[0], [64.0, 48.0], atol=1e-6)
    assert z[0] > 0 and abs(z[0] - np.linalg.norm(eye - target)) < 1e-9
    assert np.allclose(cam.center, eye, atol=1e-9)
    # world "up" (z) appears upwards in the image (smaller v) unless looking straight along it
    view = (target - eye) / np.linalg.norm(target - eye)
    if abs(view[2]) < 0.95:
        uv_up, _ = cam.project((target + 0.05 * np.array([0, 0, 1.0]))[None])
        assert uv_up[0, 1] < 48.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_project_points_matches_pinhole_formula(backend):
    rng = np.random.default_rng(9)
    K = np.array([[300.0, 0, 64.5], [0, 310.0, 50.0], [0, 0, 1]])
    T = random_poses(rng, 1)[0]
    p_cam = np.concatenate([rng.uniform(-1, 1, (50, 2)), rng.uniform(0.5, 3, (50, 1))], axis=1)
    p_world = (p_cam - T[:3, 3]) @ T[:3, :3]  # T⁻¹ applied, so T_cam_world · p_world = p_cam
    uv, z = project_points(arr(K, backend), arr(T, backend), arr(p_world, backend))
    expected = (p_cam @ K.T)[:, :2] / p_cam[:, 2:]
    assert np.allclose(npy(uv), expected, atol=1e-9)
    assert np.allclose(npy(z), p_cam[:, 2], atol=1e-12)


def test_camera_resized_keeps_projection_relative():
    cam = PinholeCamera.looking_at([1.0, 0.5, 0.8], [0, 0, 0], 50.0, 160, 120)
    small = cam.resized(80, 60)
    p = np.array([[0.05, -0.02, 0.03]])
    assert np.allclose(small.project(p)[0], cam.project(p)[0] / 2, atol=1e-9)
    assert abs(small.fov_x_deg - 50.0) < 1e-9


def test_torch_gradients_finite_at_identity():
    aa = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    q = axis_angle_to_quat(aa)
    (q * torch.tensor([0.3, 1.0, -2.0, 0.5], dtype=torch.float64)).sum().backward()
    assert torch.isfinite(aa.grad).all()
    # d q_xyz / d aa = I/2 at zero
    assert torch.allclose(aa.grad, torch.tensor([0.5, -1.0, 0.25], dtype=torch.float64))
    aa2 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    R = axis_angle_to_rotmat(aa2)
    R[1, 0].backward()  # ∂R_10/∂ω_z = 1 at identity
    assert torch.isfinite(aa2.grad).all() and torch.allclose(aa2.grad, torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))
    xi = torch.zeros(6, dtype=torch.float64, requires_grad=True)
    se3_exp(xi).sum().backward()
    assert torch.isfinite(xi.grad).all()
    T = torch.eye(4, dtype=torch.float64, requires_grad=True)
    se3_log(T).sum().backward()
    assert torch.isfinite(T.grad).all()


@pytest.mark.parametrize("z", [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.3, -0.2, 0.93], [-0.999, 0.01, 0.04]])
def test_frame_around_is_a_rotation_whose_z_is_the_given_direction(z):
    from video2robo.geometry.so3 import frame_around

    z = np.asarray(z) / np.linalg.norm(z)
    R = frame_around(z)  # hint x, fallback y: z along x takes the fallback
    np.testing.assert_allclose(R.T @ R, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)
    np.testing.assert_array_equal(R[:, 2], z)
    R_t = frame_around(torch.as_tensor(z), hint=(0.0, 1.0, 0.0), fallback=(1.0, 0.0, 0.0))
    assert isinstance(R_t, torch.Tensor)
    np.testing.assert_allclose(R_t.numpy()[:, 2], z)
    np.testing.assert_allclose(R_t.numpy().T @ R_t.numpy(), np.eye(3), atol=1e-12)


def test_constant_velocity_continues_the_last_step_and_holds_an_implausible_one():
    from video2robo.geometry import axis_angle_to_rotmat, make_pose
    from video2robo.pose.motion import constant_velocity

    a = make_pose(axis_angle_to_rotmat(np.array([0.0, 0.0, 0.1])), np.array([0.0, 0.0, 0.5]))
    b = make_pose(axis_angle_to_rotmat(np.array([0.0, 0.0, 0.2])), np.array([0.01, 0.0, 0.5]))
    c = constant_velocity(a, b, max_step=0.05)
    np.testing.assert_allclose(c @ np.linalg.inv(b), b @ np.linalg.inv(a), atol=1e-12)  # the same step again
    np.testing.assert_array_equal(constant_velocity(a, b, max_step=0.001), b)  # too far: held
    np.testing.assert_array_equal(constant_velocity(None, b, max_step=0.05), b)  # no step yet
