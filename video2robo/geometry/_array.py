"""Tiny array-namespace shim so each geometry formula is written once for numpy and torch.

Functions receive numpy arrays or torch tensors and return the same kind; torch inputs keep autograd.
"""

from __future__ import annotations

import numpy as np
import torch


def xp(x):
    """The module (numpy or torch) that owns `x`."""
    return torch if isinstance(x, torch.Tensor) else np


def stack(xs, axis: int = -1):
    if isinstance(xs[0], torch.Tensor):
        return torch.stack(xs, dim=axis)
    return np.stack(xs, axis=axis)


def cat(xs, axis: int = -1):
    if isinstance(xs[0], torch.Tensor):
        return torch.cat(xs, dim=axis)
    return np.concatenate(xs, axis=axis)


def norm(x, keepdims: bool = False):
    if isinstance(x, torch.Tensor):
        return torch.linalg.norm(x, dim=-1, keepdim=keepdims)
    return np.linalg.norm(x, axis=-1, keepdims=keepdims)


def eye_like(x, n: int, batch_shape=()):
    """Identity matrices of size n with x's dtype/device, broadcast to batch_shape."""
    if isinstance(x, torch.Tensor):
        e = torch.eye(n, dtype=x.dtype, device=x.device)
        return e.expand(*batch_shape, n, n).clone()
    e = np.eye(n, dtype=x.dtype if np.issubdtype(np.asarray(x).dtype, np.floating) else np.float64)
    return np.broadcast_to(e, (*batch_shape, n, n)).copy()


def asarray_like(value, like):
    """`value` as an array of the same kind, dtype and device as `like`."""
    if isinstance(like, torch.Tensor):
        return torch.as_tensor(value, dtype=like.dtype, device=like.device)
    return np.asarray(value, dtype=like.dtype)


def clip(x, lo, hi):
    if isinstance(x, torch.Tensor):
        return torch.clamp(x, lo, hi)
    return np.clip(x, lo, hi)


def swap_last(x):
    """Transpose of the last two axes."""
    return x.transpose(-1, -2) if isinstance(x, torch.Tensor) else np.swapaxes(x, -1, -2)


def cross(a, b):
    if isinstance(a, torch.Tensor):
        return torch.linalg.cross(a, b, dim=-1)
    return np.cross(a, b, axis=-1)
