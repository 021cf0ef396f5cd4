"""Skill parsing and world-frame helpers on trajectories with known events."""

import numpy as np
import pytest

from video2robo.errors import UserError
from video2robo.geometry import axis_angle_to_rotmat, make_pose
from video2robo.parse.world import fill_invalid, target_rests, world_from_camera_motion
from video2robo.skills import SkillParams, detect_grasp_release, parse_skills


def scripted(n=120, grasp=30, release=90, fps=30.0, noise=0.0, seed=0):
    """Source rests at A, moves (lift, carry next to the target, tilt) between grasp and release, rests at B."""
    rng = np.random.default_rng(seed)
    T = np.repeat(np.eye(4)[None], n, axis=0)
    a, b = np.array([0.3, 0.0, 0.0]), np.array([0.0, 0.05, 0.0])
    for i in range(n):
        s = np.clip((i - grasp) / (release - grasp), 0, 1)
        lift = 0.1 * np.sin(np.pi * s)
        T[i, :3, 3] = (1 - s) * a + s * b + [0, 0, lift] + rng.normal(0, noise, 3)
        T[i, :3, :3] = axis_angle_to_rotmat(np.array([0.8 * np.sin(np.pi * s), 0, 0]))
    return T


def test_grasp_and_release_within_3_frames():
    T = scripted(noise=0.001)
    g, r = detect_grasp_release(T, SkillParams(fps=30))
    assert abs(g - 29) <= 3 and abs(r - 90) <= 3


def test_a_resting_fit_that_jumps_a_centimetre_is_not_a_grasp():
    """A 1 cm step of the resting source (a refit after the camera's motion was re-estimated) long before
    the hand comes reads as motion by speed alone; it takes the source nowhere, so the grasp is still the
    lift's. A step as large as a lift's would count."""
    T = scripted(n=60, grasp=40, release=55, fps=10.0)
    T[10:, :3, 3] += [0.0, 0.007, 0.008]  # at 10 fps: 0.1 m/s for a frame, smoothed over two
    g, _ = detect_grasp_release(T, SkillParams(fps=10))
    assert abs(g - 39) <= 1, g
    assert detect_grasp_release(T, SkillParams(fps=10, min_travel=0.01))[0] < 12  # the step itself
    T[10:40, :3, 3] += [0.0, 0.03, 0.0]
    assert detect_grasp_release(T, SkillParams(fps=10))[0] < 12


def test_a_rest_refitted_a_few_millimetres_away_is_still_the_rest():
    """The source put down at frame 37 (10 fps) and held there; its rest searched afresh at 42 sits 3 mm
    away. Both are the final rest: the release is the put-down, not the refit (a can's release was 14 video
    frames late). A step of a centimetre or more after stopping still counts as motion."""
    T = scripted(n=48, grasp=10, release=37, fps=10.0)
    T[42:, :3, 3] += [0.003, 0.0, 0.0]
    _, r = detect_grasp_release(T, SkillParams(fps=10))
    assert abs(r - 37) <= 1, r
    T[42:, :3, 3] += [0.012, 0.0, 0.0]
    assert detect_grasp_release(T, SkillParams(fps=10))[1] >= 42


def test_release_waits_for_the_hand_to_let_go():
    T = scripted(noise=0.001)  # stops moving at 90...
    hand = np.full(len(T), np.nan)
    hand[20:] = 0.0
    hand[28:115] = 0.3  # ...but the hand holds it (pressed) until 115
    hand[100] = 0.0  # one frame's dropout is not a let-go
    out = parse_skills(T, T, np.zeros((1, 3)), np.zeros((1, 3)), SkillParams(fps=30, contact=1.0), hand_source=hand)
    assert out["release_frame"] == 115 and out["task_segment"][1] == 115
    assert parse_skills(T, T, np.zeros((1, 3)), np.zeros((1, 3)), SkillParams(fps=30, contact=1.0))["release_frame"] <= 93
    hand[115:120] = [0.25, 0.18, 0.1, 0.04, 0.0]  # let go at 115, the hand withdrawing over 4 frames: its
    out = parse_skills(T, T, np.zeros((1, 3)), np.zeros((1, 3)), SkillParams(fps=30, contact=1.0), hand_source=hand)
    assert abs(out["release_frame"] - 115) <= 1, out["release_frame"]  # cover's fall begins then, not 3 frames on
    hand[28:97] = 0.3  # let go 7 frames after it stopped: withdrawing, not pressing: the motion's answer
    hand[97:] = 0.0
    out = parse_skills(T, T, np.zeros((1, 3)), np.zeros((1, 3)), SkillParams(fps=30, contact=1.0), hand_source=hand)
    assert abs(out["release_frame"] - 90) <= 3
    hand[28:] = 0.3  # never let go within max_hold_s: the motion's answer
    out = parse_skills(T, T, np.zeros((1, 3)), np.zeros((1, 3)), SkillParams(fps=30, contact=1.0), hand_source=hand)
    assert abs(out["release_frame"] - 90) <= 3
    hand[115:] = [0.25, 0.18, 0.1] + [0.07] * (len(T) - 118)  # let go at 115, the source's shadow left behind
    out = parse_skills(T, T, np.zeros((1, 3)), np.zeros((1, 3)), SkillParams(fps=30, contact=1.0), hand_source=hand)
    assert abs(out["release_frame"] - 115) <= 1, out["release_frame"]  # read as the hand: 0.07, a quarter of 0.3


def test_a_fit_that_settles_after_the_hand_let_go_is_released_at_the_let_go():
    """A cube set on a cube at 90 (10 fps): the hand covers half its surroundings while carrying it and
    withdraws from 91 (0.44, then 0.19, leaving its shadow, 0.13). The fit, biased while the hand covered
    it, still moves 1 cm a frame until 94: the object was still, so the release is the let-go. A fit still
    moving long after the hand left (a toppling object, or a hand read too early as gone) keeps the
    motion's release, and so does a source whose hand was never measured."""
    fps = 10.0
    T = scripted(n=120, grasp=15, release=90, fps=fps)
    T[80:, 2, 3] += 0.035  # the fit sits 3.5 cm high while the hand covers the cube...
    T[92:95, 2, 3] -= [0.01, 0.02, 0.03]  # ...and comes down onto the rest 1 cm a frame as the hand leaves
    T[95:, 2, 3] -= 0.035
    hand = np.zeros(120)
    hand[16:91] = 0.55
    hand[91:] = [0.44, 0.19] + [0.13] * (120 - 93)
    params = SkillParams(fps=fps, contact=1.0)
    moved = detect_grasp_release(T, params)[1]
    assert moved >= 94, moved  # the motion alone: the fit's settling
    out = parse_skills(T, T, np.zeros((1, 3)), np.zeros((1, 3)), params, hand_source=hand)
    assert 89 <= out["release_frame"] <= 91 and out["task_segment"][1] == out["release_frame"], out["release_frame"]
    assert parse_skills(T, T, np.zeros((1, 3)), np.zeros((1, 3)), params)["release_frame"] == moved
    hand[70:91] = 0.1  # the hand read as gone 2.4 s before the fit settles: the motion's answer
    out = parse_skills(T, T, np.zeros((1, 3)), np.zeros((1, 3)), params, hand_source=hand)
    assert out["release_frame"] == moved
    hand[16:91] = 0.55
    hand[91:] = [0.44] + [0.19] * 5 + [0.30] * (120 - 97)  # the cover dips, then stays above half the carry's:
    out = parse_skills(T, T, np.zeros((1, 3)), np.zeros((1, 3)), params, hand_source=hand)
    assert out["release_frame"] == moved  # it never let go there (what stays is its shadow): the motion's


def _release_of_cube_set_down(before_stop: list[float], after_stop: list[float]) -> int:
    """The release parsed for a cube carried from 10 and set down at 38 (10 fps), the hand covering 0.4 of
    its surroundings while carrying, then `before_stop` up to 38 and `after_stop` from 38 (0 after)."""
    fps = 10.0
    T = scripted(n=60, grasp=10, release=38, fps=fps)
    hand = np.zeros(60)
    hand[11:38] = 0.4
    hand[38 - len(before_stop) : 38] = before_stop
    hand[38 : 38 + len(after_stop)] = after_stop
    params = SkillParams(fps=fps, contact=1.0)
    assert detect_grasp_release(T, params)[1] == 38
    return parse_skills(T, T, np.zeros((1, 3)), np.zeros((1, 3)), params, hand_source=hand)["release_frame"]


def test_a_hand_that_stayed_on_the_stopped_source_let_go_after_it_stopped():
    """A cube set on a cube (the seed-2 stack's fit and cover): the fit stops at 38 and the hand stays on
    it, its cover falling from the carry's 0.4 through 0.23, 0.16, 0.14 to 0.02 at 43 as it lets go. The
    let-go read from the stay (40) is the release; the rule for a fit that settles after the hand had
    left must not take it back to where the cover began to fall (36), before the stop: the hand was
    still on the source when its fit stopped."""
    release = _release_of_cube_set_down([0.36, 0.34, 0.31], [0.23, 0.1, 0.16, 0.14, 0.06, 0.02, 0.01, 0.01])
    assert 39 <= release <= 41, release


def test_a_stay_whose_let_go_is_read_at_the_stop_keeps_the_stop():
    """As above, but the cover falls to 0.1-0.15 as the fit stops at 38 and stays there for 0.7 s: the
    let-go read from the stay is the stop itself. The hand was on the stopped source, so the rule for a fit
    settling after the let-go must not take the release back to where the cover fell (33)."""
    release = _release_of_cube_set_down([0.18, 0.12, 0.1], [0.1, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.01])
    assert release == 38, release


def test_source_that_never_moves_is_a_user_error():
    T = np.repeat(np.eye(4)[None], 60, axis=0)
    with pytest.raises(UserError, match="never moves"):
        detect_grasp_release(T, SkillParams())


def test_task_segment_and_relative_trajectory():
    T_s = scripted()
    T_t = np.repeat(make_pose(np.eye(3), np.array([0.0, 0.0, 0.0]))[None], len(T_s), axis=0)
    pts = np.random.default_rng(1).uniform(-0.02, 0.02, (300, 3))  # two 4 cm cubes of surface points
    out = parse_skills(T_s, T_t, pts, pts, SkillParams(fps=30))
    a, b = out["task_segment"]
    d = out["distance"]
    assert out["grasp_frame"] <= a <= b <= out["release_frame"]
    assert (d[a : b + 1] < 0.03).all() and d[a - 1] >= 0.03
    np.testing.assert_allclose(out["T_rel"], np.linalg.inv(T_t[a : b + 1]) @ T_s[a : b + 1])


def test_task_segment_takes_invalid_frames_as_no_evidence():
    """Contact begins at frame 10 and ends at 19; the fits of frames 10-11 (read as out of contact) and
    19-21 (read as in contact) are invalid: the segment runs from the middle of each gap."""
    from video2robo.skills import task_segment

    d = np.full(30, 0.10)
    d[12:19] = 0.0  # what the valid fits say
    d[19:22] = 0.01  # invalid fits that still read contact
    valid = np.ones(30, bool)
    valid[[10, 11, 19, 20, 21]] = False
    assert task_segment(d, 0, 29, 0.03) == (12, 21)  # every frame counts
    # first contact is frame 10, 11 or 12: the middle, 11; the last is 18..21: the earlier middle, 19
    assert task_segment(d, 0, 29, 0.03, valid) == (11, 19)
    assert task_segment(d, 0, 29, 0.03, np.ones(30, bool)) == (12, 21)
    only_invalid = np.full(30, 0.10)
    only_invalid[10] = 0.0
    assert task_segment(only_invalid, 0, 29, 0.03, valid) == (10, 10)  # no valid frame in contact: all count
    with pytest.raises(UserError, match="never comes within 3 cm"):
        task_segment(np.full(30, 0.10), 0, 29, 0.03, valid)


def test_task_segment_starts_where_the_source_reaches_the_target():
    """Lifted past the target, the source reads 2 cm from it for two frames (5-6); it reaches it (0.2 cm)
    from frame 14 after coming within 3 cm at frame 12, and leaves it at frame 20. The segment starts at
    12, not 5; without `reach`, at 5. Its end is the last frame within 3 cm either way."""
    from video2robo.skills import task_segment

    d = np.full(30, 0.10)
    d[5:7] = 0.02
    d[12:14] = 0.025
    d[14:20] = 0.002
    d[24] = 0.028  # a last frame within 3 cm, after it left
    assert task_segment(d, 0, 29, 0.03) == (5, 24)
    assert task_segment(d, 0, 29, 0.03, reach=0.01) == (12, 24)
    assert task_segment(d, 2, 29, 0.03, np.ones(30, bool), reach=0.01) == (12, 24)
    # closest approach 2 cm (a pour's lip over a rim): every frame within 3 cm of 3 cm counts, from frame 5
    d2 = np.where(d < 0.03, 0.02, d)
    assert task_segment(d2, 0, 29, 0.03, reach=0.01) == (5, 24)
    # frames 14-15's fits are invalid: the first frame in contact is any of 14-16, and their middle is taken
    valid = np.ones(30, bool)
    valid[[14, 15]] = False
    d3 = d.copy()
    d3[12:16] = 0.10
    assert task_segment(d3, 0, 29, 0.03, valid, reach=0.01) == (15, 24)


def test_task_segment_of_strikes_ends_at_the_last_strike():
    """Strikes at frames 8-9 and 14-15 (0.2 cm), then the stick is put back 1.5 cm beside the target from
    frame 20 to the release at 29. A task of strikes (`last_touch`) ends at the last strike's run (16),
    another at the last frame within 3 cm (29)."""
    from video2robo.skills import task_segment

    d = np.full(30, 0.10)
    d[7:10] = [0.02, 0.002, 0.002]
    d[14:17] = [0.002, 0.002, 0.025]
    d[20:] = 0.015
    assert task_segment(d, 0, 29, 0.03, reach=0.01) == (7, 29)
    assert task_segment(d, 0, 29, 0.03, reach=0.01, last_touch=True) == (7, 16)
    # the stick rests on the drum after its last strike (e.g. a stroke held): the touch runs on to the release
    d2 = d.copy()
    d2[17:] = 0.002
    assert task_segment(d2, 0, 29, 0.03, reach=0.01, last_touch=True) == (7, 29)


def test_task_spec_reads_how_the_task_segment_ends():
    from video2robo.task_spec import load_task_spec

    assert load_task_spec("drum").skills.task_end == "last_touch"
    assert load_task_spec("pour").skills.task_end == "contact"


def test_release_after_invalid_frames_is_the_gap_middle():
    """The source stops at frame 90; the fits of frames 84-89 are invalid and interpolated from frame 83
    to 90 (as world.fill_invalid does): the first frame at rest is any of 84..90, and the middle is taken."""
    T = scripted()
    T[84:90, :3, 3] = T[83, :3, 3] + (np.arange(1, 7)[:, None] / 7) * (T[90, :3, 3] - T[83, :3, 3])
    valid = np.ones(len(T), bool)
    valid[84:90] = False
    params = SkillParams(fps=30)
    assert detect_grasp_release(T, params)[1] == 90
    assert detect_grasp_release(T, params, valid)[1] == 87
    assert detect_grasp_release(T, params, np.ones(len(T), bool))[1] == 90


def test_fill_invalid_interpolates_and_holds_ends():
    T = scripted(n=20, grasp=2, release=18)
    valid = np.ones(20, bool)
    valid[[0, 7, 8, 19]] = False
    filled = fill_invalid(T, valid)
    np.testing.assert_allclose(filled[0], T[1])
    np.testing.assert_allclose(filled[19], T[18])
    assert np.linalg.norm(filled[7, :3, 3] - T[7, :3, 3]) < 0.01  # smooth motion: interpolation is close
    assert (filled[valid] == T[valid]).all()


def test_fill_invalid_interpolates_where_a_resting_object_stays_put():
    """A resting object seen from a turning, moving camera: an invalid frame filled in the first camera's
    frame is exactly where the object rests; filled as seen, it moves with the camera."""
    T0 = make_pose(axis_angle_to_rotmat(np.array([-2.0, 0.1, 0])), np.array([0.05, 0.1, 0.7]))
    C = np.stack([make_pose(axis_angle_to_rotmat(np.array([0.0, 0.02 * k * k, 0.01 * k])), np.array([0.03 * k, 0, 0]))
                  for k in range(6)])
    T = C @ T0
    valid = np.ones(6, bool)
    valid[2:4] = False
    np.testing.assert_allclose(fill_invalid(T, valid, C), T, atol=1e-12)
    assert np.linalg.norm(fill_invalid(T, valid)[2, :3, 3] - T[2, :3, 3]) > 0.003


BOX = np.array([[x, y, z] for x in (-0.05, 0.05) for y in (-0.03, 0.03) for z in (0.0, 0.04)])  # 10 cm


def test_world_from_static_target():
    T_cam_target = np.repeat(make_pose(axis_angle_to_rotmat(np.array([-2.2, 0, 0])), np.array([0, 0.1, 0.8]))[None], 10, axis=0)
    T_cam_target[3, :3, 3] += 0.05  # one bad fit
    valid = np.ones(10, bool)
    points = np.array([[0, 0, -0.03], [0, 0, 0.05]])
    still = np.repeat(np.eye(4)[None], 10, axis=0)
    assert target_rests(T_cam_target, valid, still, BOX)
    T_world_cam = world_from_camera_motion(T_cam_target, valid, points, still)
    assert np.allclose(T_world_cam, T_world_cam[0])
    T_world_target = T_world_cam[0] @ T_cam_target[0]
    assert abs((T_world_target[:3, :3] @ points[0] + T_world_target[:3, 3])[2]) < 1e-9  # lowest point on the table


def test_world_follows_the_camera_motion():
    """A moving camera: the resting target's per-frame fits and the camera motion give one world frame
    in which the target stays put and the camera moves as it did."""
    rng = np.random.default_rng(0)
    T_world_cam = np.stack([make_pose(axis_angle_to_rotmat(np.array([-2.2, 0, 0]) + rng.normal(0, 0.03, 3)),
                                      np.array([0, -0.6, 0.5]) + rng.normal(0, 0.02, 3)) for _ in range(12)])
    points = np.array([[0, 0, -0.03], [0, 0, 0.05]])
    T_world_target = make_pose(np.eye(3), np.array([0, 0, 0.03]))
    T_cam_target = np.linalg.inv(T_world_cam) @ T_world_target
    T_cam_cam0 = np.linalg.inv(T_world_cam) @ T_world_cam[0]
    valid = np.ones(12, bool)
    out = world_from_camera_motion(T_cam_target, valid, points, T_cam_cam0)
    np.testing.assert_allclose(out, T_world_cam, atol=1e-9)
    assert target_rests(T_cam_target, valid, T_cam_cam0, BOX)
    moved = T_cam_target.copy()
    moved[6:, :3, 3] += moved[6:, :3, :3] @ np.array([0.0, 0.05, 0.0])  # pushed 5 cm along the table half-way
    assert not target_rests(moved, valid, T_cam_cam0, BOX)
    turned = T_cam_target.copy()
    turned[6:, :3, :3] = turned[6:, :3, :3] @ axis_angle_to_rotmat(np.array([0.0, 0.0, np.pi / 2]))
    assert not target_rests(turned, valid, T_cam_cam0, BOX)  # a box turned a quarter in place has moved


def test_symmetric_target_drifting_about_its_axis_rests():
    """A bowl's fits turn about its axis of symmetry (unobservable) by up to 1 rad: it still rests; a
    bar turned so in place does not."""
    rng = np.random.default_rng(1)
    T_cam = make_pose(axis_angle_to_rotmat(np.array([-2.2, 0, 0])), np.array([0, 0.1, 0.8]))
    spins = np.stack([T_cam @ make_pose(axis_angle_to_rotmat(np.array([0, 0, a])), np.zeros(3))
                      for a in rng.uniform(-1, 1, 12)])
    still, valid = np.repeat(np.eye(4)[None], 12, axis=0), np.ones(12, bool)
    a = np.radians(np.arange(0, 360, 1.0))
    bowl = np.concatenate([np.stack([r * np.cos(a), r * np.sin(a), np.full_like(a, z)], 1)
                           for r, z in ((0.08, 0.05), (0.04, 0.0))])
    assert target_rests(spins, valid, still, bowl)
    bar = np.stack([np.linspace(-0.1, 0.1, 50), np.zeros(50), np.zeros(50)], 1)
    assert not target_rests(spins, valid, still, bar)


def test_robust_mean_pose_ignores_a_flipped_cluster():
    """A symmetric target's fit flipped by 90° in a third of the frames must not tilt the mean pose."""
    from video2robo.geometry.so3 import rotation_angle
    from video2robo.parse.world import robust_mean_pose

    rng = np.random.default_rng(3)
    T = np.stack([make_pose(axis_angle_to_rotmat(rng.normal(0, 0.01, 3)), np.array([0.1, 0.0, 0.6]) + rng.normal(0, 0.002, 3))
                  for _ in range(30)])
    T[20:, :3, :3] = T[20:, :3, :3] @ axis_angle_to_rotmat(np.array([0.0, 0.0, np.pi / 2]))
    T[20:, :3, 3] += 0.04
    mean = robust_mean_pose(T)
    assert rotation_angle(mean[:3, :3], np.eye(3)) < 0.01
    assert np.linalg.norm(mean[:3, 3] - [0.1, 0.0, 0.6]) < 0.005


def test_scale_to_stand_is_the_factor_that_puts_a_guessed_size_on_the_table():
    """Two boxes resting on one table seen by a camera looking down; the second lifted at twice its
    size (so twice as far along its rays: the same image) must be halved, and one at its size is kept."""
    from video2robo.parse.world import scale_to_stand

    rng = np.random.default_rng(0)
    box = rng.uniform(-1, 1, (500, 3)) * [0.04, 0.03, 0.05]  # model z up, lowest point z = -0.05
    R_cam_world = axis_angle_to_rotmat(np.array([2.2, 0.0, 0.0]))  # a camera pitched down at the table, image up

    def on_table(x, y, yaw, points):
        T_world_obj = make_pose(axis_angle_to_rotmat(np.array([0.0, 0.0, yaw])), np.array([x, y, -points[:, 2].min()]))
        T_cam_world = make_pose(R_cam_world, np.array([0.0, 0.1, 0.6]))
        return T_cam_world @ T_world_obj

    T_ref = on_table(0.0, 0.0, 0.3, box)
    other = box * [2.0, 1.0, 0.4]  # a flat, wide object beside it
    T_obj = on_table(0.15, 0.1, -0.7, other)
    assert scale_to_stand(T_ref, box, T_obj, other) == pytest.approx(1.0, abs=1e-9)
    far = T_obj.copy()
    far[:3, 3] *= 2.0  # lifted at twice its size: twice as far along its rays, the same image
    assert scale_to_stand(T_ref, box, far, other * 2.0) == pytest.approx(0.5, abs=1e-9)
