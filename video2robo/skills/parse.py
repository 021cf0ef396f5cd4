"""Skills from the 6D trajectories of the source and target objects (world frame, z up).

- grasp: the source rests, then lifts off; the grasp frame is the last still frame before sustained
  motion (the hand closed on the object just then), the onset extrapolated from the first moved frames.
- release: the first frame after the last sustained motion from which the source stays still; when the
  hand's cover of the source is known per frame (fit_video's `hand`) and the hand stayed on the still
  source a while (a pressed lid rests before the hand lets go), the first frame when it no longer covers it;
  when the hand had let go just before the fit came to rest (and had not stayed on it after), the let-go
  (an object let go does not move: its fit caught up with the view the hand uncovered).
- task segment: frames between grasp and release where the source surface is within `contact` (3 cm)
  of the target surface, from the run of them in which it first comes within `reach` (1 cm) of its
  closest approach (not one it is only lifted past), to the end of the last such run in a task of strikes
  (`last_touch`: not the stick put back beside the drum); T_rel(t) = T_world_target(t)⁻¹ · T_world_source(t) over it.
Speeds are measured on a smoothed trajectory, so tracking jitter does not read as motion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d
from scipy.spatial import cKDTree

from video2robo.errors import UserError
from video2robo.geometry.so3 import rotation_angle


@dataclass
class SkillParams:
    fps: float = 30.0
    still_speed: float = 0.02  # m/s below which the source counts as still
    still_angular: float = 0.25  # rad/s
    min_motion_s: float = 0.25  # motion shorter than this is jitter...
    min_travel: float = 0.02  # ...and so is motion that takes the source less far than this (m) from where
    min_turn: float = 0.35  # it was and turns it less than this (rad): a resting object's fit that jumped
    # 1 cm once (the camera's motion re-estimated) read as a grasp 60 frames before the hand came
    smooth_s: float = 0.2  # smoothing window
    rest_step: float = 0.01  # a resting source's fit that steps less than this (m) still rests (_refine_events)
    contact: float = 0.03  # task segment threshold on surface distance, metres
    reach: float = 0.01  # the segment starts where the source first comes this close to its closest approach (task_segment)
    last_touch: bool = False  # ...and ends where it last does (a task of strikes: the task spec's skills.task_end)
    hand_contact: float = 0.05  # the hand covers at least this share of the source's surroundings while holding it
    min_press_s: float = 0.5  # the hand on the still source this long: it pressed, and its let-go is the release
    max_hold_s: float = 3.0  # the hand's let-go is looked for this long after the source stops
    press_level: float = 0.85  # the hand covers at least this share of its median cover while pressing
    let_go_share: float = 0.25  # ...and has let go once it covers less than this share of it (what stays
    # is the source's shadow on what it was put on, read as the hand: a cube's on the cube under it, 0.06)
    gone_share: float = 0.5  # the hand covers less than this share of its cover during the carry: it has let go
    max_settle_s: float = 0.5  # a source whose fit still moves at most this long after the hand let go of it
    # was still, its fit catching up with the view the hand uncovered: the let-go is the release


def _speeds(T: np.ndarray, fps: float, smooth_s: float) -> tuple[np.ndarray, np.ndarray]:
    win = max(1, int(round(smooth_s * fps)))
    p = median_filter(T[:, :3, 3], size=(win | 1, 1), mode="nearest")
    p = uniform_filter1d(p, size=win, axis=0, mode="nearest")
    v = np.linalg.norm(np.gradient(p, axis=0), axis=1) * fps
    ang = np.concatenate([[0.0], rotation_angle(T[:-1, :3, :3], T[1:, :3, :3])]) * fps
    ang = uniform_filter1d(median_filter(ang, size=win | 1, mode="nearest"), size=win, mode="nearest")
    return v, ang


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index ranges where flags is True."""
    d = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]))


def detect_grasp_release(T_world_source: np.ndarray, p: SkillParams, valid: np.ndarray | None = None) -> tuple[int, int]:
    """(grasp_frame, release_frame) from the source's motion; UserError when it never moves. With `valid`
    (per frame, the source's fit explains its mask), see `_release_in_gap`."""
    v, w = _speeds(T_world_source, p.fps, p.smooth_s)
    moving = (v > p.still_speed) | (w > p.still_angular)
    runs = [r for r in _runs(moving) if (r[1] - r[0]) >= p.min_motion_s * p.fps and _moves(T_world_source, *r, p)]
    if not runs:
        raise UserError("the source object never moves in the video, so no grasp can be found; check the prompts "
                        "(source and target may be swapped) or the task name")
    start, end = int(runs[0][0]), int(runs[-1][1])
    grasp, release = _refine_events(T_world_source[:, :3, 3], start, end, max(1, int(round(p.smooth_s * p.fps))),
                                    p.rest_step)
    return grasp, _release_in_gap(grasp, release, valid)


def _release_in_gap(grasp: int, release: int, valid: np.ndarray | None) -> int:
    """The release (the first frame at the final rest) when the frames just before it are invalid: their
    poses are interpolated (world.fill_invalid), no evidence of when the source stopped, so the first
    frame at rest is any of them after the last valid frame or the first valid frame at rest, and the
    middle is taken (the earlier of two), as for the task segment. The drumstick's two frames as it came
    to rest were invalid; its release moved 3 video frames earlier (+8 -> +5)."""
    if valid is None:
        return release
    valid = np.asarray(valid, bool)
    if release - 1 <= grasp or valid[release - 1]:
        return release
    last = release - 1
    while last > grasp and not valid[last]:
        last -= 1
    first_rest = release
    while first_rest < len(valid) - 1 and not valid[first_rest]:
        first_rest += 1
    return (last + 1 + first_rest) // 2


def _moves(T: np.ndarray, start: int, end: int, p: SkillParams) -> bool:
    """Whether frames [start, end) take the source at least `min_travel` or `min_turn` from its pose
    just before them."""
    ref = T[max(start - 1, 0)]
    travel = np.linalg.norm(T[start:end, :3, 3] - ref[:3, 3], axis=1).max()
    turn = rotation_angle(T[start:end, :3, :3], np.broadcast_to(ref[:3, :3], (end - start, 3, 3))).max()
    return bool(travel >= p.min_travel or turn >= p.min_turn)


def _refine_events(pos: np.ndarray, start: int, end: int, win: int, step: float) -> tuple[int, int]:
    """Grasp and release on the raw positions: smoothing spreads motion by about a window, so the last
    frame still at the initial rest pose (and the first at the final one) is found against each rest
    pose's own spread: its jitter, or a step of less than `step` (m) within it (a put-down can's resting
    fit stepped 3 mm a few frames later, after a rest search, and the frames before the step read as
    still moving: its release was 14 video frames late)."""
    n = len(pos)

    def tolerance(rest: np.ndarray) -> float:
        spread = np.linalg.norm(rest - np.median(rest, axis=0), axis=1)
        return max(0.002, 3.0 * float(np.median(spread)) * 1.4826 + 1e-4, min(float(spread.max()), step) + 1e-4)

    rest0 = pos[: max(start - win, 1)]
    dev0 = np.linalg.norm(pos - np.median(rest0, axis=0), axis=1)
    moved = np.nonzero(dev0[: min(end, n)] > tolerance(rest0))[0]
    moved = moved[moved >= max(start - win, 0)]
    grasp = _onset(dev0, int(moved[0])) if len(moved) else start - 1
    rest1 = pos[min(end + win, n - 1):]
    dev1 = np.linalg.norm(pos - np.median(rest1, axis=0), axis=1)
    away = np.nonzero(dev1[grasp + 1 :] > tolerance(rest1))[0] + grasp + 1
    away = away[away <= min(end + win, n - 1)]
    release = int(away[-1]) + 1 if len(away) else end
    return max(grasp, 0), min(release, n - 1)


def release_when_let_go(release: int, hand: np.ndarray | None, p: SkillParams) -> tuple[int, bool]:
    """The release from the hand rather than the motion when the hand stayed on the still source for at
    least `min_press_s` (a pressed lid): then the first frame when the hand covers less than
    `hand_contact` of the source's surroundings or less than `let_go_share` of its cover since the stop
    (median over 3 frames), or is not measured, taken back to
    the onset of the cover's fall below `press_level` of the press's (the hand opens, then withdraws). Otherwise, or
    when the hand stays on it longer than `max_hold_s`, `release` (the source stopped). A hand leaving a
    placed object takes a moment, so a short contact after it stops is its withdrawal, not a press.
    Returns (release, whether the hand stayed on the still source that long: then it had not let go
    before the source stopped, whatever frame the let-go is read at, the stop's included)."""
    if hand is None or not np.isfinite(hand).any():
        return release, False
    h = median_filter(np.nan_to_num(hand, nan=0.0), size=3, mode="nearest")
    end = min(len(h), release + round(p.max_hold_s * p.fps) + 1)
    for f in range(release, end):
        let_go = h[f] < p.hand_contact or (f > release and h[f] < p.let_go_share * np.median(h[release:f]))
        if not np.isfinite(hand[f]) or let_go:
            if f - release < p.min_press_s * p.fps:
                return release, False
            # the hand withdraws over a few frames from the moment it opens (a lid's cover: 0.11 for 10
            # frames, then 0.09, 0.07, 0.03): the let-go is the onset of the cover's fall from the press's
            press = float(np.median(h[release:f]))
            below = np.nonzero(h[release : f + 1] < p.press_level * press)[0]
            return (max(release, _onset(press - h, release + int(below[0])) + 1) if len(below) else f), True
    return release, False  # no let-go within max_hold_s: what stays may be the source's shadow, not the hand


def release_before_settling(grasp: int, release: int, hand: np.ndarray | None, p: SkillParams) -> int:
    """The release taken back to the hand's let-go when the hand had let go of the source (its cover below
    `gone_share` of its median cover during the carry, and staying there: its median over `max_settle_s`
    from the rest too; a can's cover dipped to 0.14 of a carry's 0.29 as it came to rest, then stayed at
    0.16, its shadow on the plate, and its release went 6 frames early) at most `max_settle_s` before
    the fit came to rest at `release`: a put-down object no longer moves once let go, but its fit, biased
    while the hand covered it, moves on to the rest pose for a few frames as the hand withdraws (a cube
    set on a cube: its fit settled 8 frames after the hand left). The let-go is the onset of the cover's
    fall below `press_level` of the carry's, as in `release_when_let_go`. `release` otherwise."""
    if hand is None or release - grasp < 3:
        return release
    raw = hand[grasp + 1 : release + 1]
    if not np.isfinite(raw).all():
        return release
    h = np.concatenate([np.zeros(grasp + 1), median_filter(raw, size=3, mode="nearest")])
    carry = float(np.median(h[grasp + 1 : release + 1]))
    if carry < p.hand_contact:
        return release
    gone = h < p.gone_share * carry
    after = hand[release : release + max(1, round(p.max_settle_s * p.fps))]
    after = after[np.isfinite(after)]
    if not gone[release] or not len(after) or np.median(after) >= p.gone_share * carry:
        return release
    first = release
    while first - 1 > grasp and gone[first - 1]:
        first -= 1
    if first == release or release - first > p.max_settle_s * p.fps:
        return release
    fall = first  # the cover's fall began where it first dropped below `press_level` of the carry's
    while fall - 1 > max(grasp, first - p.max_settle_s * p.fps) and h[fall - 1] < p.press_level * carry:
        fall -= 1
    return max(grasp + 1, _onset(carry - h, fall) + 1)


def _onset(dev: np.ndarray, m: int) -> int:
    """The last frame before the motion whose first clearly moved frame is m: an object starting from rest
    accelerates, so its displacement grows about as (t - t0)²; the first two moved frames then give the
    onset t0 = m - r / (1 - r), r = sqrt(dev[m] / dev[m + 1]). The first moved frame of a sampled video
    (or one held still by the tracker until it moved clearly) is often one frame after the onset. Bounded
    to [m - 3, m - 1]."""
    if m + 1 >= len(dev) or not 0 < dev[m] < dev[m + 1]:
        return m - 1
    r = math.sqrt(dev[m] / dev[m + 1])
    t0 = m - r / (1.0 - r)
    return int(np.clip(math.floor(t0), max(m - 3, 0), m - 1))


def surface_distance(points_source: np.ndarray, points_target: np.ndarray, T_ws: np.ndarray, T_wt: np.ndarray) -> np.ndarray:
    """(N,) closest distance between the two objects' surface points (object frames) at each frame."""
    tree_points = points_target
    out = np.empty(len(T_ws))
    tree = cKDTree(tree_points)
    for i in range(len(T_ws)):
        T = np.linalg.inv(T_wt[i]) @ T_ws[i]  # source in the target frame
        ps = points_source @ T[:3, :3].T + T[:3, 3]
        out[i] = tree.query(ps, k=1)[0].min()
    return out


def task_segment(distance: np.ndarray, grasp: int, release: int, contact: float,
                 valid: np.ndarray | None = None, reach: float = 0.0, last_touch: bool = False) -> tuple[int, int]:
    """First and last frame (inclusive) in [grasp, release] with distance < contact. With `valid` (per
    frame, both fits explain their masks) only valid frames are evidence: when invalid frames lie
    between the last valid frame out of contact and the first in contact, the first frame in contact is
    any of them or that first one, and the segment starts at their middle (earlier when two are; its
    end likewise): the frames with the least regret whenever it began. The poses of invalid frames are
    interpolated between valid ones (world.fill_invalid), and a straight line says little about when a
    stroke reached the target: the drumstick, swung fast at the drum, was fitted badly on the two frames
    it struck, its interpolation crossed 3 cm only at the next valid frame, and the segment began 6 video
    frames late; from the gap's middle, 3. Without any valid frame in contact, every frame counts.

    With `reach` > 0 the segment starts in the run of frames within `contact` that holds the first
    (valid) frame within `reach` of the closest approach: a source that rests a few centimetres from
    the target is fitted within 3 cm of it for a frame or two as it is lifted past it (a drumstick 5.5
    cm from the drum read 1.6 cm as the hand swung it up, and its segment began 30 video frames early),
    but it reaches the target only when it does the task. Its end is treated so only with `last_touch`
    (a task of strikes, whose last one ends it: a drumstick put back 4.3 cm beside the drum was fitted
    1.7 cm from it, and its segment ended at the release, 39 video frames late; from the last strike's
    run, 3): a cup tilted over a bowl is 2-3 cm from its rim while it pours, was fitted 3-5 cm from it,
    and its last run within 3 cm, as it was taken away, is where the pour ended."""
    window = distance[grasp : release + 1]
    near = window < contact
    if not near.any():
        raise UserError(f"the source never comes within {contact * 100:.0f} cm of the target between grasp and release "
                        f"(closest {window.min() * 100:.1f} cm); check the prompts, the scale hint, "
                        "or the task name")
    ok = np.ones(len(window), bool) if valid is None else np.asarray(valid, bool)[grasp : release + 1]
    if not (near & ok).any():
        ok = np.ones(len(window), bool)  # no valid frame in contact: every frame counts
    if reach > 0:
        closest = float(window[ok].min())
        touch = np.nonzero((window < min(contact, closest + reach)) & ok)[0]
        runs = _runs(near)  # every frame in touch lies in one of them
        near[: next(a for a, b in runs if a <= touch[0] < b)] = False  # within 3 cm only on the way past it
        if last_touch:
            near[next(b for a, b in runs if a <= touch[-1] < b) :] = False  # ...only as it was put back beside it
    seen = np.nonzero(near & ok)[0]
    first, last = int(seen[0]), int(seen[-1])
    before = np.nonzero(ok[:first])[0]  # the last valid frame before it (out of contact)
    after = np.nonzero(ok[last + 1 :])[0]
    start = (int(before[-1]) + 1 + first) // 2 if len(before) else first
    end = (2 * last + int(after[0])) // 2 if len(after) else last
    return grasp + start, grasp + end


def relative_trajectory(T_world_target: np.ndarray, T_world_source: np.ndarray, segment: tuple[int, int]) -> np.ndarray:
    a, b = segment
    return np.linalg.inv(T_world_target[a : b + 1]) @ T_world_source[a : b + 1]


def parse_skills(T_world_source, T_world_target, points_source, points_target, p: SkillParams | None = None,
                 hand_source: np.ndarray | None = None, valid_source: np.ndarray | None = None,
                 valid_target: np.ndarray | None = None):
    """dict with grasp_frame, release_frame, task_segment, distance (N,), T_rel (K,4,4). `hand_source`: per
    frame, the share of the source's surroundings the hand covers (NaN: not measured), for the release;
    `valid_source`, `valid_target`: per frame, whether each fit is valid (for the release, the task segment)."""
    p = p or SkillParams()
    grasp, release = detect_grasp_release(T_world_source, p, valid_source)
    let_go, stayed = release_when_let_go(release, hand_source, p)
    # a hand that stayed on the source after its fit stopped had not let go before then: the rule for a
    # fit settling after the let-go does not apply (it took a stacked cube's release back 13 frames)
    release = let_go if stayed else release_before_settling(grasp, release, hand_source, p)
    dist = surface_distance(points_source, points_target, T_world_source, T_world_target)
    valid = None if valid_source is None else np.asarray(valid_source, bool) & (
        True if valid_target is None else np.asarray(valid_target, bool))
    seg = task_segment(dist, grasp, release, p.contact, valid, p.reach, p.last_touch)
    return {"grasp_frame": grasp, "release_frame": release, "task_segment": seg, "distance": dist,
            "T_rel": relative_trajectory(T_world_target, T_world_source, seg)}
