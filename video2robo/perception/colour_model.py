"""Per-object colour model: re-detects an object near where it is expected, independently of tracks.

A colour histogram (HSV) of the object's first-frame mask against one of the rest of the frame gives
P(object | colour) per bin; back-projecting it near the predicted silhouette and keeping the confident
blobs that touch the prediction gives a mask that neither drifts with the tracks nor shrinks with
our own prediction (an occluding hand or a differently coloured object is not taken).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from video2robo.perception.masks import clean_mask, disk, extent_px, keep_components, thickness_px


@dataclass
class ColourModelOptions:
    bins: tuple[int, int, int] = (18, 8, 8)  # hue, saturation, value
    threshold: float = 0.6  # posterior above which a pixel is the object's
    min_fg_pixels: int = 50
    prior_weight: float = 1.0  # pseudo-counts per bin: colours never seen are the object's rather than not,
    # so a face first seen later (a tilted cup's inside) still counts as object near the prediction
    min_fg_count: float = 2.0  # `strict`: a colour needs more than this many object pixels to be the object's
    max_bg_hit: float = 0.01  # a model is `distinctive` when at most this share of the background matches it
    thin_px: float = 8.0  # `detect`: a prior silhouette thinner than this (area / length, pixels) is a stick
    min_cover: float = 0.4  # `detect_anywhere`: share of the shifted silhouette the object's colours must cover
    moved_cover: float = 0.25  # `detect_moved`: the same, among pixels that changed (a hand covers much of it)


class ColourModel:
    """P(object | colour) learnt once from a frame and the object's mask (see module docstring)."""

    def __init__(self, image: np.ndarray, mask: np.ndarray, exclude: np.ndarray | None = None,
                 options: ColourModelOptions | None = None):
        self.opt = options or ColourModelOptions()
        fg = cv2.erode(mask.astype(np.uint8), disk(1))
        bg = (~cv2.dilate(mask.astype(np.uint8), disk(2)).astype(bool))
        if exclude is not None:
            bg &= ~exclude
        self.usable = int(fg.sum()) >= self.opt.min_fg_pixels
        idx = self._bin_index(image)
        self._h_fg = self._histogram(idx, fg > 0)
        self._h_bg = self._histogram(idx, bg)
        self._p_bg_max = self._h_bg / max(self._h_bg.sum(), 1.0)  # per-frame background density, most over frames
        self._h_mov = np.zeros(self.opt.bins)  # colours of what moved and is none of the objects (`learn_movers`)
        self._update_posterior()
        hit = self.strict[idx] > self.opt.threshold
        # distinctive: most of the object and almost nothing else in the frame has its colours, so the
        # model can look for the object anywhere (`detect_anywhere`), not only near a prediction
        self.distinctive = self.usable and hit[fg > 0].mean() >= 0.5 and hit[bg].mean() <= self.opt.max_bg_hit
        # how much of the object's own mask passes as its colour: what a right mask's `support` reads
        self.own_support = float((self.posterior[idx][fg > 0] > self.opt.threshold).mean()) if self.usable else 1.0

    def _histogram(self, idx: tuple[np.ndarray, ...], where: np.ndarray) -> np.ndarray:
        flat = np.ravel_multi_index(tuple(i[where] for i in idx), self.opt.bins)
        return np.bincount(flat, minlength=int(np.prod(self.opt.bins))).reshape(self.opt.bins).astype(np.float64)

    def _update_posterior(self) -> None:
        a = self.opt.prior_weight
        p_fg = (self._h_fg + a) / (self._h_fg.sum() + a * self._h_fg.size)
        p_bg = (self._h_bg + a) / (self._h_bg.sum() + a * self._h_bg.size)
        self.posterior = (p_fg / (p_fg + p_bg)).astype(np.float32)
        # apart: P(object | colour) against what moves besides the objects (the hand, the arm), its density
        # taken among moving pixels: a hand is a sliver of the frame's background yet most of what moves.
        # 1 while the movers are unknown: no colour is theirs
        p_mov = (self._h_mov + a) / (self._h_mov.sum() + a * self._h_mov.size)
        self.apart = (p_fg / (p_fg + p_mov)).astype(np.float32) if self.knows_movers else np.ones(self.opt.bins, np.float32)
        # strict: colours seen on the object, and more often than elsewhere; unseen ones (the hand) are not
        # the object's however few object pixels there are against the background's. For finding the
        # object anywhere in the frame, where any false colour match can win
        n_fg = max(self._h_fg.sum(), 1.0)
        p_fg = self._h_fg / n_fg
        p_bg = np.maximum(self._p_bg_max, self.opt.min_fg_count / n_fg)
        self.strict = (p_fg / (p_fg + p_bg)).astype(np.float32)

    def learn_background(self, image: np.ndarray, not_object: np.ndarray) -> None:
        """Add the colours of `not_object` pixels (a later frame, where the object's fit is trusted) to
        the background histogram: what enters the scene after the first frame, such as the hand holding
        the object, stops passing for the object (for `strict`, a colour's background density is the most
        it had in any learnt frame, so a hand seen once is not diluted by the frames before it)."""
        if not not_object.any():
            return
        h = self._histogram(self._bin_index(image), not_object)
        self._h_bg += h
        self._p_bg_max = np.maximum(self._p_bg_max, h / h.sum())
        self._update_posterior()

    def learn_movers(self, image: np.ndarray, movers: np.ndarray) -> None:
        """Add the colours of `movers` (pixels that changed since the first frame and are none of the
        objects, in a frame whose fits are trusted: the hand and arm, mostly) to the movers' histogram
        that `detect_moved` tells the object apart from."""
        if movers.sum() < self.opt.min_fg_pixels:
            return
        self._h_mov += self._histogram(self._bin_index(image), movers)
        self._update_posterior()

    @property
    def knows_movers(self) -> bool:
        """Has `learn_movers` seen enough pixels for `detect_moved`?"""
        return self.usable and self._h_mov.sum() >= self.opt.min_fg_pixels

    def probability(self, image: np.ndarray) -> np.ndarray:
        """(H, W) float32 P(object | colour)."""
        return self.posterior[self._bin_index(image)]

    def strict_probability(self, image: np.ndarray) -> np.ndarray:
        """(H, W) float32 `strict` P(object | colour): colours the object never showed are not its."""
        return self.strict[self._bin_index(image)]

    def probabilities(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(`probability`, `strict_probability`, `apart`: P(object | colour) against the movers of
        `learn_movers`, the hand; 1 while they are unknown) of one image, its colours binned once."""
        idx = self._bin_index(image)
        return self.posterior[idx], self.strict[idx], self.apart[idx]

    def _bin_index(self, image: np.ndarray) -> tuple[np.ndarray, ...]:
        hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.int32)
        return tuple(np.minimum(hsv[..., c] * b // r, b - 1) for c, b, r in zip(range(3), self.opt.bins, (180, 256, 256)))

    def detect(self, image: np.ndarray, prior: np.ndarray, search_px: int, exclude: np.ndarray | None = None,
               touching: bool = True) -> np.ndarray:
        """Object pixels within search_px of the prior silhouette, in blobs that overlap the prior (any
        blob when not `touching`), each grown into the pixels connected to it in colours the object showed
        (`strict`) up to the prior's extent further: a prediction that covers only part of the object (a
        brush's handle, a stick's far end) must not cut the object's mask to itself, or the fit follows
        the cut mask and the next prediction is cut again."""
        if not self.usable or not prior.any():
            return np.zeros_like(prior)
        ys, xs = np.nonzero(prior)
        h, w = prior.shape
        reach = search_px + extent_px(prior)
        r0, r1 = max(0, ys.min() - reach), min(h, ys.max() + reach + 1)
        c0, c1 = max(0, xs.min() - reach), min(w, xs.max() + reach + 1)
        sub = prior[r0:r1, c0:c1].astype(np.uint8)
        near = cv2.dilate(sub, disk(search_px)) > 0
        prob, strict, _ = self.probabilities(np.ascontiguousarray(image[r0:r1, c0:c1]))
        # smoothing and opening drop specks, and with them a stick a few pixels thick: not for thin objects
        thin = thickness_px(prior) < self.opt.thin_px
        if not thin:
            prob = cv2.GaussianBlur(prob, (0, 0), 1.0)
        win = near & (prob > self.opt.threshold)
        allowed = np.ones_like(win) if exclude is None else ~exclude[r0:r1, c0:c1]
        win &= allowed
        out = np.zeros_like(prior)
        if not win.any():
            return out
        found = clean_mask(win, sub > 0 if touching else None, open_radius=0 if thin else 1, close_radius=2, holes=True)
        if found.any():
            within = cv2.distanceTransform((sub == 0).astype(np.uint8), cv2.DIST_L2, 5) <= reach  # a large disk's dilation: 0.3 s
            further = (strict > self.opt.threshold) & allowed & within
            found |= keep_components(found | further, found)
        out[r0:r1, c0:c1] = found & allowed
        return out

    def support(self, image: np.ndarray, region: np.ndarray) -> float:
        """Share of `region`'s pixels whose colour is the object's (1.0 for an empty region)."""
        if not region.any():
            return 1.0
        ys, xs = np.nonzero(region)
        r0, r1, c0, c1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        prob = self.probability(np.ascontiguousarray(image[r0:r1, c0:c1]))
        return float((prob[region[r0:r1, c0:c1]] > self.opt.threshold).mean())

    def detect_anywhere(self, image: np.ndarray, silhouette: np.ndarray, band_px: int, stick_px: int = 0,
                        exclude: np.ndarray | None = None) -> np.ndarray:
        """The object's colour pixels around wherever in the image the expected `silhouette` (the
        predicted one, shifted) covers most of them, within `band_px` of it. Empty when the model is not
        `distinctive` or no shift covers `min_cover` of the silhouette with the object's colours. For
        re-finding an object that moved further between frames than any local search reaches (a fast
        lift, a sampled video). Matching the silhouette's shape, not taking colour blobs whole, keeps
        out what touches the object in the image (the hand's rim matches a red can's colours).
        With `stick_px` > 0 (a stick, at most that long in the image) the found pixels are taken whole
        along the stick (`whole_stick`), outside `exclude` (the hand holding it)."""
        if not self.distinctive or silhouette.sum() < 16:
            return np.zeros(image.shape[:2], bool)
        hits = self._confident(self.strict_probability(image), thickness_px(silhouette) < self.opt.thin_px)
        found = _placed(hits.astype(np.float32), silhouette, band_px, self.opt.min_cover)
        if stick_px <= 0 or not found.any():
            return found
        return whole_stick(hits if exclude is None else hits & ~exclude, found, stick_px)

    def _confident(self, prob: np.ndarray, thin: bool) -> np.ndarray:
        """(H, W) bool: `prob` above the threshold, smoothed and opened to drop specks; as is for a thin
        object (a stick: keep its few pixels' width)."""
        if thin:
            return prob > self.opt.threshold
        hits = cv2.GaussianBlur(prob, (0, 0), 1.0) > self.opt.threshold
        return cv2.morphologyEx(hits.astype(np.uint8), cv2.MORPH_OPEN, disk(1)) > 0

    def detect_moved(self, image: np.ndarray, silhouette: np.ndarray, changed: np.ndarray, band_px: int) -> np.ndarray:
        """Like `detect_anywhere`, for an object that is not `distinctive` in the whole frame, among the
        pixels that `changed` since the first frame (an object that moved is among them, the static
        background that shares its colours is not) and whose colours are the object's rather than the
        movers' (`learn_movers`: the hand holding it). Empty before the movers are known, or when no shift
        of the `silhouette` covers `moved_cover` of it. A can lifted faster than any local search follows
        (60 px between two frames, blurred) on a background of its own colours (a blue shirt)."""
        if not self.knows_movers or silhouette.sum() < 16:
            return np.zeros(image.shape[:2], bool)
        lenient, _, apart = self.probabilities(image)
        thin = thickness_px(silhouette) < self.opt.thin_px
        hits = self._confident(lenient * (apart > self.opt.threshold), thin)
        found = _placed((hits & changed).astype(np.float32), silhouette, band_px, self.opt.moved_cover)
        # the label's print and the fingers' gaps leave holes: the object is the blobs filled in
        return clean_mask(found, found, open_radius=0, close_radius=0 if thin else 2, holes=True) if found.any() else found


def whole_stick(hits: np.ndarray, found: np.ndarray, max_extent_px: int) -> np.ndarray:
    """`found` with every blob of `hits` it touches, when together they are at most `max_extent_px` long
    (else `found`). A stick's prediction tilted toward the camera is a short blob, and the shape it
    places keeps only the stick's end by the hand (the drumstick lifted past the drum: 209 of its 1199
    visible pixels, and the fit, held to them, turned on toward the camera); the stick's colours run on
    along it, one blob."""
    if not (hits & found).any():
        return found
    grown = found | keep_components(hits, found)
    return grown if extent_px(grown) <= max_extent_px else found


def _placed(hits: np.ndarray, silhouette: np.ndarray, band_px: int, min_cover: float) -> np.ndarray:
    """`hits` within band_px of the shift of `silhouette` that covers most of them; empty when none covers
    min_cover of the silhouette."""
    h, w = hits.shape
    ys, xs = np.nonzero(silhouette)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    template = silhouette[y0:y1, x0:x1].astype(np.float32)
    if template.shape[0] > h or template.shape[1] > w:
        return np.zeros((h, w), bool)
    score = cv2.matchTemplate(hits, template, cv2.TM_CCORR)
    _, best, _, (bx, by) = cv2.minMaxLoc(score)
    if best < min_cover * template.sum():
        return np.zeros((h, w), bool)
    placed = np.zeros((h, w), np.uint8)
    placed[by : by + template.shape[0], bx : bx + template.shape[1]] = template > 0
    near = cv2.dilate(placed, disk(band_px)) > 0
    return (hits > 0) & near
