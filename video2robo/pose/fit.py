"""Per-object 6D pose fitting by differentiable rendering (method §1.4).

Frame 0: differential evolution (scipy) over rotation, image-plane offset, depth (and scale when it is
observable: depth maps given) on mask + RGB (+ depth) losses, each candidate scored by the compiled
objective (pose.population), then Adam refinement. Later frames: scale
fixed, Adam on the pose from a constant-velocity prediction, adding the track loss (model points
anchored at the first frame each track is seen, projected vs their tracked pixels) and a rotation prior
(the motion model's predicted rotation), in steps bounded by the object's width so a thin object's fit
does not step off its own silhouette (FitConfig.lr_width). Each frame gets a
residual (1 − silhouette IoU) and a validity flag; a lost frame triggers re-initialisation by DE
around the prediction instead of silent drift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from video2robo.gaussians import GaussianSet
from video2robo.geometry.so3 import axis_angle_to_rotmat, frame_around
from video2robo.pose.crop import Crop, crop_around
from video2robo.pose.config import FitConfig, LossWeights  # noqa: F401  (re-exported)
from video2robo.pose.losses import Observation, rgb_loss, total_loss
from video2robo.pose.motion import constant_velocity
from video2robo.pose.population import population_losses
from video2robo.pose.upright import PITCH_RANGE, ROLL_RANGE, upright_rotation
from video2robo.render import render


@dataclass
class FrameInput:
    """Full-image evidence for one object at one frame."""

    rgb: np.ndarray  # (H, W, 3) float32 in [0, 1]
    mask: np.ndarray  # (H, W) bool
    depth: np.ndarray | None = None  # (H, W) metres
    track_xy: np.ndarray | None = None  # (P, 2) full-image pixels
    track_vis: np.ndarray | None = None  # (P,) bool
    track_ids: np.ndarray | None = None  # (P,) int: stable identities
    mask_from_prior: bool = False  # the mask was re-acquired from our own prediction: no global re-init on it
    track_points: np.ndarray | None = None  # (P, 3) object-frame model points of track_xy (given: no anchoring)
    ignore: np.ndarray | None = None  # (H, W) bool: pixels hidden by other objects (no evidence either way)
    R_prior: np.ndarray | None = None  # (3, 3) R_cam_obj the motion model predicts (tracking: LossWeights.rotation)
    unjudged: np.ndarray | None = None  # (H, W) bool: left out when the fit is judged (silhouette_iou), not when
    # it is made: gaps in a colour detection, fingers mostly


@dataclass
class FitResult:
    T_cam_obj: np.ndarray
    residual: float  # 1 − IoU of rendered vs observed silhouette
    valid: bool
    losses: dict
    reinitialised: bool = False


def _pose(R0: torch.Tensor, t0: torch.Tensor, omega: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """T = [exp(ω)·R0, t0 + v]: rotation about the object's own origin, expressed in the camera frame."""
    T = torch.eye(4, dtype=R0.dtype)
    T = T.clone()
    R = axis_angle_to_rotmat(omega) @ R0
    top = torch.cat([R, (t0 + v)[:, None]], dim=1)
    return torch.cat([top, T[3:4]], dim=0)


def _ray_basis(t: np.ndarray) -> np.ndarray:
    """(3, 3) orthonormal columns: two directions across the viewing ray through t (camera frame), then
    the ray itself (the optical axis when t is at the camera)."""
    n = np.linalg.norm(t)
    ray = t / n if n > 1e-9 else np.array([0.0, 0.0, 1.0])
    return frame_around(ray, hint=(0.0, 1.0, 0.0), fallback=(1.0, 0.0, 0.0))


def _width(points: np.ndarray) -> float:
    """The middle of the point cloud's three principal extents (√12 × standard deviation: a box's side)."""
    if len(points) < 3:
        return 0.0
    sd = np.sqrt(np.clip(np.linalg.eigvalsh(np.cov((points - points.mean(0)).T)), 0, None))
    return float(math.sqrt(12.0) * sd[1])


class ObjectFitter:
    """Fits one object's pose through a video, frame by frame (call `first` once, then `next`)."""

    def __init__(self, model: GaussianSet, K: np.ndarray, cfg: FitConfig | None = None, scale_free: bool = False):
        self.cfg = cfg or FitConfig()
        self.model = model.detach().to(dtype=torch.float32)
        self.K = np.asarray(K, dtype=np.float64)
        lo, hi = self.model.bounds()
        self.size = float(np.linalg.norm(hi - lo))  # object diameter proxy, metres
        self.width = _width(self.model.means.numpy())  # middle principal extent, metres
        self.scale_free = scale_free
        self.scale = 1.0
        g = torch.Generator().manual_seed(self.cfg.seed)
        n = len(self.model)
        keep = torch.randperm(n, generator=g)[: self.cfg.de_max_gaussians] if n > self.cfg.de_max_gaussians else torch.arange(n)
        self.model_de = self.model.select(keep)
        self.anchors: dict[int, np.ndarray] = {}
        self.history: list[np.ndarray] = []  # one pose per frame (held poses for invalid frames)
        self.valid_history: list[np.ndarray] = []  # poses of frames that fitted well: the motion model
        self._cooldown = 0  # frames left before another re-initialisation may be tried

    # ---------------------------------------------------------------------------------------------
    def _observation(self, frame: FrameInput, crop: Crop, with_tracks: bool) -> Observation:
        rgb = torch.from_numpy(np.ascontiguousarray(crop.image(frame.rgb.astype(np.float32))))
        mask = torch.from_numpy(crop.image(frame.mask).astype(np.float32))
        depth = None
        if frame.depth is not None:
            depth = torch.from_numpy(crop.image(frame.depth.astype(np.float32), interpolation=0))
        obs = Observation(rgb, mask, depth)
        if frame.ignore is not None and frame.ignore.any():
            obs.ignore = torch.from_numpy(crop.image(frame.ignore).astype(np.float32))
        if with_tracks and frame.R_prior is not None:  # tracking: the motion prior goes with the tracks
            obs.R_prior = torch.as_tensor(frame.R_prior, dtype=torch.float32)
        if with_tracks and frame.track_points is not None:
            if len(frame.track_points):
                obs.track_xy = torch.from_numpy(crop.to_crop(frame.track_xy).astype(np.float32))
                obs.track_points = torch.from_numpy(frame.track_points.astype(np.float32))
        elif with_tracks and frame.track_xy is not None and self.anchors:
            sel = [i for i, (tid, vis) in enumerate(zip(frame.track_ids, frame.track_vis)) if vis and int(tid) in self.anchors]
            if sel:
                obs.track_xy = torch.from_numpy(crop.to_crop(frame.track_xy[sel]).astype(np.float32))
                obs.track_points = torch.from_numpy(np.stack([self.anchors[int(frame.track_ids[i])] for i in sel]).astype(np.float32))
        return obs

    def _render(self, model: GaussianSet, T: torch.Tensor, cam):
        return render(model.scaled(self.scale).transform(T), cam, backend="numba", antialiased=True)

    def silhouette(self, T: np.ndarray, crop: Crop) -> np.ndarray:
        """(size, size) bool: where the model at pose T covers the crop (alpha > 0.5)."""
        with torch.no_grad():
            out = self._render(self.model, torch.as_tensor(T, dtype=torch.float32), crop.camera(self.K))
        return out.alpha[0].numpy() > 0.5

    def silhouette_iou(self, T: np.ndarray, frame: FrameInput, crop: Crop) -> float:
        """IoU of the model's silhouette at T with the frame's mask on the crop, ignored and unjudged pixels left out."""
        a = self.silhouette(T, crop)
        m = crop.image(frame.mask)
        for hidden in (frame.ignore, frame.unjudged):
            if hidden is not None:
                keep = ~crop.image(hidden)
                a, m = a & keep, m & keep
        union = (a | m).sum()
        return float((a & m).sum() / union) if union else 0.0

    def polish_iou(self, T: np.ndarray, frame: FrameInput) -> float:
        """`silhouette_iou` on the polishing crop around the frame's mask (FitConfig.polish_crop_size): the
        finest comparison of two poses' fits to one mask, as the first frame's polish and the rest searches make."""
        return self.silhouette_iou(T, frame, crop_around(frame.mask, self.cfg.polish_crop_size))

    # ---------------------------------------------------------------------------------------------
    def _initial_depth(self, frame: FrameInput) -> tuple[np.ndarray, float]:
        """Ray through the mask centroid, and the depth at which the model's projected convex-hull area
        (averaged over a few plausible orientations) matches the mask's: pure geometry, independent of
        how the Gaussians render at that distance."""
        import cv2

        ys, xs = np.nonzero(frame.mask)
        u, v = xs.mean() + 0.5, ys.mean() + 0.5
        ray = np.linalg.inv(self.K) @ np.array([u, v, 1.0])
        ray = ray / ray[2]
        z_ref = 10.0 * self.size
        pts = self.model_de.means.numpy().astype(np.float64)
        pts = pts - pts.mean(0)
        if self.cfg.upright_prior:
            rotations = [upright_rotation(yaw, pitch, 0.0) for yaw in (0.0, 0.8, 1.6) for pitch in (0.3, 0.8)]
        else:
            rotations = [axis_angle_to_rotmat(np.array(a, dtype=float)) for a in ([0, 0, 0], [math.pi / 2, 0, 0], [0, math.pi / 2, 0])]
        areas = []
        for R in rotations:
            p = pts @ R.T + ray * z_ref
            uv = (p[:, :2] / p[:, 2:3]) * [self.K[0, 0], self.K[1, 1]]
            areas.append(cv2.contourArea(cv2.convexHull(uv.astype(np.float32))))
        hull_obs = cv2.contourArea(cv2.convexHull(np.stack([xs, ys], 1).astype(np.float32)))
        z0 = z_ref * math.sqrt(max(float(np.mean(areas)), 1e-9) / max(hull_obs, 1.0))
        return ray, z0

    def _de(self, frame: FrameInput, center_ray: np.ndarray, z0: float, R_guess: np.ndarray | None,
            weights: LossWeights | None = None, seed: int | None = None) -> np.ndarray:
        from scipy.optimize import differential_evolution

        cfg = self.cfg
        crop = crop_around(frame.mask, cfg.de_crop_size)
        cam = crop.camera(self.K)
        obs = self._observation(frame, crop, with_tracks=False)
        radius = math.sqrt(frame.mask.sum() / math.pi) / self.K[0, 0]  # mask radius in normalised units
        w = weights or cfg.weights
        scale_dims = 1 if (self.scale_free and frame.depth is not None) else 0

        upright = cfg.upright_prior and R_guess is None

        def pose_of(x):
            if R_guess is not None:  # local search: rotation offset around the guess
                R = axis_angle_to_rotmat(x[:3]) @ R_guess
            elif upright:  # yaw about the object's up axis, camera pitch and roll (see upright_rotation)
                R = upright_rotation(x[0], x[1], x[2])
            else:
                R = axis_angle_to_rotmat(x[:3])
            z = z0 * math.exp(x[5])
            t = np.array([center_ray[0] + x[3] * radius, center_ray[1] + x[4] * radius, 1.0]) * z
            T = np.eye(4)
            T[:3, :3], T[:3, 3] = R, t
            return T

        def objective(x):  # total_loss of the candidate, compiled (pose.population)
            scale = math.exp(x[6]) if scale_dims else self.scale
            return float(population_losses(self.model_de, pose_of(x)[None], np.array([scale]), cam.K, obs, w, self.size)[0])

        if upright:
            rot_bounds = [(-math.pi, math.pi), PITCH_RANGE, ROLL_RANGE]
        else:
            rot = math.pi if R_guess is None else 0.6
            rot_bounds = [(-rot, rot)] * 3
        bounds = rot_bounds + [(-0.6, 0.6)] * 2 + [(-0.5, 0.5)] + [(-1.0, 1.0)] * scale_dims
        popsize, maxiter = (cfg.de_popsize, cfg.de_maxiter) if R_guess is None else (cfg.reinit_popsize, cfg.reinit_maxiter)
        # one candidate at a time ("immediate" updating: each trial competes with the population as it now
        # is). Scoring whole generations side by side ("deferred", vectorized) ran the search 5x faster, not
        # 2.4x, and matched the first frames, but searched worse at the re-initialisations' small budgets:
        # mean AR 0.855 -> 0.824 and 0.817 -> 0.755 on pose_accuracy's seeds 1 and 2
        res = differential_evolution(objective, bounds, popsize=popsize, maxiter=maxiter, seed=cfg.seed if seed is None else seed,
                                     polish=False, tol=1e-4, init="sobol", updating="immediate")
        if scale_dims:
            self.scale = math.exp(res.x[6])
        return pose_of(res.x)

    def _adam(self, frame: FrameInput, T_init: np.ndarray, iters: int, min_iters: int, with_tracks: bool,
              weights: LossWeights | None = None, crop_size: int | None = None, small_steps: bool = False):
        """Adam on the pose from T_init; `small_steps`: steps bounded by the object's width (tracking from a
        prediction, see FitConfig.lr_width), else the search's refinement, free to travel."""
        cfg = self.cfg
        crop = crop_around(frame.mask, crop_size or cfg.crop_size)
        cam = crop.camera(self.K)
        K_crop = torch.as_tensor(cam.K, dtype=torch.float32)
        obs = self._observation(frame, crop, with_tracks)
        R0 = torch.as_tensor(T_init[:3, :3], dtype=torch.float32)
        t0 = torch.as_tensor(T_init[:3, 3], dtype=torch.float32)
        # translation steps across and along the viewing ray (camera axes when free: the same steps)
        B = torch.as_tensor(_ray_basis(T_init[:3, 3]) if small_steps else np.eye(3), dtype=torch.float32)
        omega = torch.zeros(3, requires_grad=True)
        across = torch.zeros(2, requires_grad=True)
        along = torch.zeros(1, requires_grad=True)
        lr_along = lr_across = cfg.lr_trans * self.size
        lr_rot = cfg.lr_rot
        if small_steps:  # see FitConfig.lr_width
            lr_across = min(lr_across, cfg.lr_width * self.width)
            lr_rot = min(lr_rot, cfg.lr_width * self.width / (0.5 * self.size))  # the ends move no further
        opt = torch.optim.Adam([{"params": [omega], "lr": lr_rot}, {"params": [across], "lr": lr_across},
                                {"params": [along], "lr": lr_along}])
        best, best_T, parts, stale = float("inf"), T_init, {}, 0
        for it in range(iters):
            opt.zero_grad()
            T = _pose(R0, t0, omega, B @ torch.cat([across, along]))
            out = self._render(self.model, T, cam)
            loss, p = total_loss(out, T, K_crop, obs, weights or cfg.weights, self.size * self.scale, with_tracks)
            value = float(loss.detach())
            stale = stale + 1 if value > best * (1 - cfg.rel_tol) else 0  # no real progress this step
            if value < best:
                best, best_T, parts = value, T.detach().double().numpy(), p
            if it >= min_iters and stale >= cfg.patience:
                break
            loss.backward()
            opt.step()
        return best_T, parts, crop

    # ---------------------------------------------------------------------------------------------
    def first(self, frame: FrameInput) -> FitResult:
        """Global initialisation on the first frame where the object is visible."""
        if frame.mask.sum() < 16:
            from video2robo.errors import UserError

            raise UserError("the object's first-frame mask is (almost) empty; give a prompt that covers the object")
        ray, z0 = self._initial_depth(frame)
        cfg, best = self.cfg, None
        hypotheses = [cfg.weights]
        if cfg.silhouette_hypothesis > 0 and cfg.weights.rgb > 0:
            hypotheses.append(replace(cfg.weights, rgb=cfg.weights.rgb * cfg.silhouette_hypothesis))
        for attempt in range(1 + cfg.restarts):  # see FitConfig.restart_iou
            if attempt and best[0] >= cfg.restart_iou:
                break
            for weights in hypotheses:  # see FitConfig.silhouette_hypothesis
                T = self._de(frame, ray, z0, None, weights, seed=cfg.seed + attempt)
                T, parts, crop = self._adam(frame, T, cfg.refine_iters, cfg.refine_iters // 2, with_tracks=False, weights=weights)
                T_p, parts_p, crop_p = self.polish(frame, T)
                if crop_p is not None:
                    T, parts, crop = T_p, parts_p, crop_p
                iou = self.polish_iou(T, frame)
                loss = self.objective(frame, T)
                if best is None or iou > best[0] + cfg.hypothesis_margin or loss < best[1]:
                    best = (iou, loss, T, parts, crop, self.scale)
        _, _, T, parts, crop, self.scale = best
        return self._finish(frame, T, parts, crop, reinit=False)

    def objective(self, frame: FrameInput, T: np.ndarray) -> float:
        """The full weights' loss of pose T on the tracking crop, tracks left out: the value the first
        frame's hypotheses compete on."""
        crop = crop_around(frame.mask, self.cfg.crop_size)
        cam = crop.camera(self.K)
        T_t = torch.as_tensor(T, dtype=torch.float32)
        with torch.no_grad():
            out = self._render(self.model, T_t, cam)
            loss, _ = total_loss(out, T_t, torch.as_tensor(cam.K, dtype=torch.float32), self._observation(frame, crop, False),
                                 self.cfg.weights, self.size * self.scale, False)
        return float(loss)

    def polish(self, frame: FrameInput, T: np.ndarray) -> tuple[np.ndarray, dict, Crop | None]:
        """T refined on the silhouette alone at a fine crop (see FitConfig.polish_iters), for a resting,
        uncovered object whose mask is trustworthy; T itself when that does not fit the mask better.
        Returns (pose, loss parts, crop; None when T was kept)."""
        cfg = self.cfg
        if cfg.polish_iters <= 0:
            return T, {}, None
        T_p, parts, crop = self._adam(frame, T, cfg.polish_iters, cfg.polish_iters * 2 // 3, with_tracks=False,
                                      weights=replace(cfg.weights, rgb=0.0), crop_size=cfg.polish_crop_size)
        if self.silhouette_iou(T_p, frame, crop) >= self.silhouette_iou(T, frame, crop):
            return T_p, parts, crop
        return T, {}, None

    def relocalise(self, frame: FrameInput, T: np.ndarray, good_iou: float, search: bool = True) -> tuple[np.ndarray, float, float, bool]:
        """A resting object's pose searched afresh, as on the first frame: T polished on the silhouette,
        and when that fits worse than `good_iou`, a local search around T's rotation and the global
        upright search too (each polished; not without `search`: they cost about as much as the first
        frame). For an object put down after being carried, whose tracked pose may have drifted in depth
        or flipped while the hand covered it. Returns (best pose, its silhouette IoU, T's IoU, whether
        the searches ran), IoUs at the polishing crop; nothing else changes (scale included)."""
        cfg = self.cfg
        crop = crop_around(frame.mask, cfg.polish_crop_size)
        iou_T = self.silhouette_iou(T, frame, crop)
        T_p = self.polish(frame, T)[0]
        best, best_iou = max([(T, iou_T), (T_p, self.silhouette_iou(T_p, frame, crop))], key=lambda c: c[1])
        if best_iou >= good_iou or not search:
            return best, best_iou, iou_T, False
        scale = self.scale
        try:
            ray, z0 = self._initial_depth(frame)
            for R_guess in (T[:3, :3], None):  # both: a local search reaches a silhouette twin of a flip
                T_de = self._de(frame, ray, z0, R_guess)
                T_de = self.polish(frame, self._adam(frame, T_de, cfg.refine_iters, cfg.refine_iters // 2, with_tracks=False)[0])[0]
                iou = self.silhouette_iou(T_de, frame, crop)
                if iou > best_iou:
                    best, best_iou = T_de, iou
        finally:
            self.scale = scale  # a global search with depth maps fits the scale too: keep the first frame's
        return best, best_iou, iou_T, True

    def rest_search(self, frame: FrameInput, C: np.ndarray, plane, tilts: list[np.ndarray],
                    others: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray | None, float]:
        """The pose of the object resting on the table or on another object (pose.rest.rest_search: poses
        in the first camera's frame, C = T_cam_cam0 now, `others`: (T0, scaled model points) of the
        objects it may stand on), scored by silhouette IoU at the polishing crop. (None, 0.0) when the
        mask is empty or the object cannot be placed."""
        from video2robo.pose.rest import rest_search

        keep = frame.mask if frame.ignore is None else frame.mask & ~frame.ignore
        if keep.sum() < 16:
            return None, 0.0
        crop = crop_around(frame.mask, self.cfg.polish_crop_size)
        ignore = None if frame.ignore is None else crop.image(frame.ignore)
        ys, xs = np.nonzero(keep)

        def centroid(T):
            sil = self.silhouette(T, crop)
            if ignore is not None:
                sil &= ~ignore
            if sil.sum() == 0:
                return None
            r, c = np.nonzero(sil)
            return np.array([c.mean() + 0.5, r.mean() + 0.5]) / crop.zoom + [crop.x0, crop.y0]

        points = self.model.means.numpy().astype(np.float64) * self.scale
        return rest_search(lambda T: self.silhouette_iou(T, frame, crop), centroid, np.array([xs.mean() + 0.5, ys.mean() + 0.5]),
                           self.K, C, points, plane, tilts, others, colour_cost=lambda T: self.colour_cost(T, frame, crop))

    def colour_cost(self, T: np.ndarray, frame: FrameInput, crop: Crop) -> float:
        """The colour loss (losses.rgb_loss: lighting-matched L1 where model and mask overlap) at pose T."""
        obs = self._observation(frame, crop, with_tracks=False)
        with torch.no_grad():
            out = self._render(self.model, torch.as_tensor(T, dtype=torch.float32), crop.camera(self.K))
        return float(rgb_loss(out.rgb[0], out.alpha[0], obs))

    def predict(self) -> np.ndarray:
        """Constant-velocity prediction of the next pose (held when the last step was implausible)."""
        hist = self.valid_history or self.history
        return constant_velocity(hist[-2] if len(hist) >= 2 else None, hist[-1], 0.5 * self.size)

    def render_full(self, T: np.ndarray, width: int, height: int, fine: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(alpha, depth) of the whole image with the model at pose T (coarse model unless fine)."""
        from video2robo.geometry.camera import PinholeCamera

        with torch.no_grad():
            out = self._render(self.model if fine else self.model_de, torch.as_tensor(T, dtype=torch.float32),
                               PinholeCamera(self.K, np.eye(4), width, height))
        return out.alpha[0].numpy(), out.depth[0].numpy()

    def predicted_silhouette(self, width: int, height: int) -> np.ndarray:
        """Where the model would appear at the predicted pose: a prior for re-acquiring a lost object."""
        return self.render_full(self.predict(), width, height)[0] > 0.5

    def hold(self, frame: FrameInput, T: np.ndarray, valid: bool) -> FitResult:
        """Keep pose T for this frame without optimising (the evidence says the object did not move)."""
        crop = crop_around(frame.mask, self.cfg.crop_size) if frame.mask.sum() >= 16 else None
        iou = self.silhouette_iou(T, frame, crop) if crop is not None else 0.0
        self.history.append(T)
        if valid:
            self.valid_history.append(T)
        return FitResult(T.copy(), 1.0 - iou, valid, {}, False)

    def amend_last(self, T: np.ndarray) -> None:
        """Replace the last fitted pose (a caller's correction) so predictions continue from it."""
        if self.valid_history and self.valid_history[-1] is self.history[-1]:
            self.valid_history[-1] = T
        self.history[-1] = T

    def next(self, frame: FrameInput, T_init: np.ndarray | None = None) -> FitResult:
        """Track into the next frame from T_init (default: a constant-velocity prediction); re-initialise
        when lost."""
        T_prev = self.history[-1]
        T_pred = self.predict() if T_init is None else T_init
        if frame.mask.sum() < 16:  # not visible: keep the prediction, flag the frame
            self.history.append(T_prev)
            return FitResult(T_prev.copy(), 1.0, False, {}, False)
        T, parts, crop = self._adam(frame, T_pred, self.cfg.track_iters, self.cfg.track_min_iters, with_tracks=True,
                                    small_steps=True)
        iou = self.silhouette_iou(T, frame, crop)
        self._cooldown = max(self._cooldown - 1, 0)
        if iou < self.cfg.lost_iou and self._cooldown == 0 and not frame.mask_from_prior:
            ray, z0 = self._initial_depth(frame)
            best_iou, best = max(iou, self.cfg.lost_iou), None
            scale = self.scale
            try:
                # around the predicted rotation, and the whole upright search: a brush turned under the
                # hand was tracked flipped, and no local search reaches back across a half turn
                for R_guess in (T_pred[:3, :3], None):
                    T_re = self._de(frame, ray, z0, R_guess)
                    T_re, parts_re, crop_re = self._adam(frame, T_re, self.cfg.refine_iters, self.cfg.track_min_iters, with_tracks=True)
                    iou_re = self.silhouette_iou(T_re, frame, crop_re)
                    if iou_re > best_iou:
                        best_iou, best = iou_re, (T_re, parts_re, crop_re)
            finally:
                self.scale = scale  # with depth maps each search fits the scale too: later frames keep the first's
            if best is not None:
                return self._finish(frame, *best, reinit=True, T_pred=T_pred)
            self._cooldown = self.cfg.reinit_cooldown
        return self._finish(frame, T, parts, crop, reinit=False, T_pred=T_pred)

    def _finish(self, frame: FrameInput, T: np.ndarray, parts: dict, crop: Crop, reinit: bool, T_pred=None) -> FitResult:
        iou = self.silhouette_iou(T, frame, crop)
        valid = iou >= self.cfg.valid_iou
        if T_pred is not None and np.linalg.norm(T[:3, 3] - T_pred[:3, 3]) > self.size:
            valid = False  # an object size away from the motion prediction in one frame: a failed fit
        self.history.append(T)
        if valid:
            self.valid_history.append(T)
            self._anchor_tracks(frame, T)
        return FitResult(T, 1.0 - iou, valid, parts, reinit)

    def _anchor_tracks(self, frame: FrameInput, T: np.ndarray) -> None:
        """Give each newly seen visible track a 3D point on the model (object frame) via rendered depth."""
        if frame.track_xy is None or frame.track_points is not None:
            return
        new = [i for i, (tid, vis) in enumerate(zip(frame.track_ids, frame.track_vis)) if vis and int(tid) not in self.anchors]
        if not new:
            return
        crop = crop_around(frame.mask, self.cfg.crop_size)
        cam = crop.camera(self.K)
        with torch.no_grad():
            out = self._render(self.model, torch.as_tensor(T, dtype=torch.float32), cam)
        alpha, depth = out.alpha[0].numpy(), out.depth[0].numpy()
        xy = crop.to_crop(frame.track_xy[new])
        Kinv = np.linalg.inv(cam.K)
        T_obj_cam = np.linalg.inv(T)
        for i, (x, y) in zip(new, xy):
            px, py = int(x), int(y)
            if 0 <= px < crop.size and 0 <= py < crop.size and alpha[py, px] > 0.9:
                p_cam = depth[py, px] * (Kinv @ np.array([x, y, 1.0]))
                self.anchors[int(frame.track_ids[i])] = T_obj_cam[:3, :3] @ p_cam + T_obj_cam[:3, 3]
