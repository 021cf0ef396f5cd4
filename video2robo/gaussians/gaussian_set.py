"""GaussianSet: a set of 3D Gaussians with spherical-harmonic colour, the one scene primitive.

Stored the way 3DGS optimisers and PLY files store them: log scales and logit opacities (so a PLY
round trip is bit-exact and optimisation is unconstrained); `scales` and `opacities` give the
activated values. Rotations are wxyz quaternions (not necessarily unit: normalised when used).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import torch

from video2robo.gaussians.sh import degree_of, num_coeffs, rgb_to_sh0, rotate_sh, sh0_to_rgb
from video2robo.geometry.so3 import quat_multiply, quat_normalize, rotmat_to_quat


@dataclass
class GaussianSet:
    means: torch.Tensor  # (N, 3) metres
    quats: torch.Tensor  # (N, 4) wxyz
    log_scales: torch.Tensor  # (N, 3) log metres
    opacity_logits: torch.Tensor  # (N,)
    sh: torch.Tensor  # (N, K, 3), K = (degree+1)²; sh[:, 0] is the DC term

    def __post_init__(self):
        n = self.means.shape[0]
        shapes = {
            "means": (n, 3),
            "quats": (n, 4),
            "log_scales": (n, 3),
            "opacity_logits": (n,),
        }
        for name, shape in shapes.items():
            if tuple(getattr(self, name).shape) != shape:
                raise ValueError(f"GaussianSet.{name} has shape {tuple(getattr(self, name).shape)}, expected {shape}")
        if self.sh.ndim != 3 or self.sh.shape[0] != n or self.sh.shape[2] != 3:
            raise ValueError(f"GaussianSet.sh has shape {tuple(self.sh.shape)}, expected ({n}, K, 3)")
        degree_of(self.sh.shape[1])

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def create(cls, means, quats=None, scales=None, opacities=None, rgb=None, sh=None, dtype=torch.float32):
        """Build from activated values (scales in metres, opacities in (0, 1), colours in [0, 1])."""
        means = torch.as_tensor(np.asarray(means) if not isinstance(means, torch.Tensor) else means, dtype=dtype)
        n = means.shape[0]

        def t(x, default):
            if x is None:
                return default
            return torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x, dtype=dtype)

        quats = t(quats, torch.tensor([1.0, 0, 0, 0], dtype=dtype).repeat(n, 1))
        scales = t(scales, torch.full((n, 3), 0.01, dtype=dtype))
        if scales.ndim == 1:
            scales = scales[:, None].expand(n, 3)
        opacities = t(opacities, torch.full((n,), 0.9, dtype=dtype))
        if sh is None:
            rgb = t(rgb, torch.full((n, 3), 0.5, dtype=dtype))
            sh = rgb_to_sh0(rgb)[:, None, :]
        else:
            sh = t(sh, None)
        o = opacities.clamp(1e-6, 1 - 1e-6)
        return cls(means, quats, torch.log(scales), torch.log(o) - torch.log1p(-o), sh)

    @classmethod
    def empty(cls, sh_degree: int = 0, dtype=torch.float32) -> "GaussianSet":
        z = lambda *s: torch.zeros(s, dtype=dtype)  # noqa: E731
        return cls(z(0, 3), z(0, 4), z(0, 3), z(0), z(0, num_coeffs(sh_degree), 3))

    # --- views --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.means.shape[0]

    @property
    def scales(self) -> torch.Tensor:
        return torch.exp(self.log_scales)

    @property
    def opacities(self) -> torch.Tensor:
        return torch.sigmoid(self.opacity_logits)

    @property
    def sh_degree(self) -> int:
        return degree_of(self.sh.shape[1])

    @property
    def rgb(self) -> torch.Tensor:
        """View-independent (DC) colour."""
        return sh0_to_rgb(self.sh[:, 0]).clamp_min(0.0)

    @property
    def dtype(self):
        return self.means.dtype

    @property
    def device(self):
        return self.means.device

    def _map(self, fn) -> "GaussianSet":
        return GaussianSet(**{f.name: fn(getattr(self, f.name)) for f in fields(self)})

    def to(self, device=None, dtype=None) -> "GaussianSet":
        return self._map(lambda x: x.to(device=device, dtype=dtype))

    def detach(self) -> "GaussianSet":
        return self._map(lambda x: x.detach())

    def select(self, index) -> "GaussianSet":
        """Subset by boolean mask or integer indices."""
        if isinstance(index, np.ndarray):
            index = torch.from_numpy(index)
        return self._map(lambda x: x[index])

    def with_sh_degree(self, degree: int) -> "GaussianSet":
        """Same Gaussians with SH coefficients truncated or zero-padded to `degree`."""
        k = num_coeffs(degree)
        sh = self.sh[:, :k]
        if sh.shape[1] < k:
            pad = torch.zeros(len(self), k - sh.shape[1], 3, dtype=sh.dtype, device=sh.device)
            sh = torch.cat([sh, pad], dim=1)
        return replace(self, sh=sh)

    @staticmethod
    def concat(sets) -> "GaussianSet":
        """One set holding all Gaussians; SH degrees are padded to the largest."""
        sets = list(sets)
        if not sets:
            raise ValueError("concat needs at least one GaussianSet")
        degree = max(s.sh_degree for s in sets)
        sets = [s.with_sh_degree(degree) for s in sets]
        return GaussianSet(**{f.name: torch.cat([getattr(s, f.name) for s in sets]) for f in fields(GaussianSet)})

    # --- rigid motion and scale ---------------------------------------------------------------
    def transform(self, T_new_old) -> "GaussianSet":
        """The set moved by a rigid transform T_new_old (4x4 numpy or torch; autograd flows through torch).

        Means and rotations are transformed (q_new = q_R ⊗ q) and SH coefficients are rotated too, so
        view-dependent colour seen from a correspondingly moved camera is unchanged.
        """
        T = torch.as_tensor(T_new_old, dtype=self.dtype, device=self.device) if not isinstance(T_new_old, torch.Tensor) else T_new_old.to(self.dtype)
        R, t = T[:3, :3], T[:3, 3]
        q_R = rotmat_to_quat(R)
        return GaussianSet(
            means=self.means @ R.T + t,
            quats=quat_multiply(q_R.expand_as(self.quats), quat_normalize(self.quats)),
            log_scales=self.log_scales,
            opacity_logits=self.opacity_logits,
            sh=rotate_sh(self.sh, R),
        )

    def scaled(self, factor) -> "GaussianSet":
        """Uniformly scaled about the origin of its frame (e.g. to metric units); differentiable in factor."""
        f = torch.as_tensor(factor, dtype=self.dtype, device=self.device)
        return replace(self, means=self.means * f, log_scales=self.log_scales + torch.log(f))

    def with_colors(self, scale=1.0, shift=0.0) -> "GaussianSet":
        """Colours scaled and shifted (lighting augmentation): rgb' = scale·rgb + shift on every channel."""
        scale_t = torch.as_tensor(scale, dtype=self.dtype, device=self.device)
        shift_t = torch.as_tensor(shift, dtype=self.dtype, device=self.device)
        sh = self.sh * scale_t
        dc = sh0_to_rgb(self.sh[:, 0]) * scale_t + shift_t
        sh = torch.cat([rgb_to_sh0(dc)[:, None], sh[:, 1:]], dim=1)
        return replace(self, sh=sh)

    def bounds(self):
        """(min, max) corners of the means, as numpy arrays."""
        m = self.means.detach().cpu().numpy()
        return m.min(0), m.max(0)
