"""Pure-PyTorch tile rasteriser: the readable, autograd-differentiable compositor.

Gaussians are binned to tiles by their bounding boxes and sorted by depth within each tile; each tile
composites its own padded list front to back. Memory is bounded by processing tiles in chunks, so no
whole-image pixel × Gaussian tensor is ever built.
"""

from __future__ import annotations

import torch

from video2robo.render.projection import ALPHA_THRESHOLD

MAX_CHUNK_ELEMENTS = 1 << 22  # pixels × list length per chunk
DEFAULT_TILE = 16


def tile_ranges(means2d, radii, width: int, height: int, tile_size: int):
    """Per-Gaussian tile rectangle [x0, x1) × [y0, y1) (int64), empty for culled Gaussians."""
    tiles_x = (width + tile_size - 1) // tile_size
    tiles_y = (height + tile_size - 1) // tile_size
    m = means2d.detach()
    r = radii.to(m.dtype)
    x0 = torch.floor((m[:, 0] - r[:, 0]) / tile_size).clamp(0, tiles_x).long()
    x1 = torch.ceil((m[:, 0] + r[:, 0]) / tile_size).clamp(0, tiles_x).long()
    y0 = torch.floor((m[:, 1] - r[:, 1]) / tile_size).clamp(0, tiles_y).long()
    y1 = torch.ceil((m[:, 1] + r[:, 1]) / tile_size).clamp(0, tiles_y).long()
    visible = (radii > 0).all(-1)
    x1 = torch.where(visible, x1, x0)
    return x0, x1, y0, y1, tiles_x, tiles_y


def bin_gaussians(means2d, radii, depths, width: int, height: int, tile_size: int):
    """Padded per-tile Gaussian lists sorted front to back: (lists (n_tiles, L) with -1 padding, tiles_x)."""
    x0, x1, y0, y1, tiles_x, tiles_y = tile_ranges(means2d, radii, width, height, tile_size)
    n_tiles = tiles_x * tiles_y
    counts = (x1 - x0) * (y1 - y0)
    gid = torch.repeat_interleave(torch.arange(len(counts)), counts)
    if gid.numel() == 0:
        return torch.full((n_tiles, 1), -1, dtype=torch.long), tiles_x
    start = torch.cumsum(counts, 0) - counts
    local = torch.arange(gid.numel()) - start[gid]
    w = (x1 - x0)[gid]
    tile = (y0[gid] + local // w) * tiles_x + x0[gid] + local % w
    # depth order, then a stable sort by tile keeps depth order inside each tile
    order = torch.argsort(depths.detach()[gid], stable=True)
    gid, tile = gid[order], tile[order]
    order = torch.argsort(tile, stable=True)
    gid, tile = gid[order], tile[order]
    per_tile = torch.bincount(tile, minlength=n_tiles)
    offsets = torch.cumsum(per_tile, 0) - per_tile
    pos = torch.arange(gid.numel()) - offsets[tile]
    lists = torch.full((n_tiles, max(int(per_tile.max()), 1)), -1, dtype=torch.long)
    lists[tile, pos] = gid
    return lists, tiles_x


def composite(alpha: torch.Tensor, features: torch.Tensor):
    """Front-to-back compositing of per-pixel lists.

    alpha (..., P, L): per pixel and list entry (0 for skipped entries); features (..., L, C).
    A Gaussian is composited only while the transmittance after it stays above 1e-4 (gsplat's rule);
    returns accumulated features (..., P, C) and final transmittance (..., P).
    """
    one_minus = 1.0 - alpha
    T_after = torch.cumprod(one_minus, dim=-1)
    alive = (T_after.detach() > 1e-4).to(alpha.dtype)
    T_before = torch.cat([torch.ones_like(T_after[..., :1]), T_after[..., :-1]], dim=-1)
    weights = alpha * T_before * alive
    out = weights @ features
    T_final = torch.prod(torch.where(alive > 0, one_minus, torch.ones_like(one_minus)), dim=-1)
    return out, T_final


def gaussian_alpha(pix: torch.Tensor, means2d, conics, opacities, valid):
    """alpha (..., P, L) of list Gaussians at pixel centres pix (..., P, 2); 0 where skipped."""
    d = means2d[..., None, :, :] - pix[..., :, None, :]
    dx, dy = d[..., 0], d[..., 1]
    a, b, c = conics[..., None, :, 0], conics[..., None, :, 1], conics[..., None, :, 2]
    sigma = 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy
    alpha = torch.clamp_max(opacities[..., None, :] * torch.exp(-sigma), 0.999)
    keep = valid[..., None, :] & (sigma >= 0) & (alpha >= ALPHA_THRESHOLD)
    return torch.where(keep, alpha, torch.zeros_like(alpha))


def rasterize(means2d, conics, opacities, features, radii, depths, width: int, height: int, tile_size: int = DEFAULT_TILE):
    """(features (H, W, C), alpha (H, W)) composited front to back, tile by tile."""
    lists, tiles_x = bin_gaussians(means2d, radii, depths, width, height, tile_size)
    n_tiles, L = lists.shape
    C = features.shape[1]
    ts = tile_size
    ly, lx = torch.meshgrid(torch.arange(ts), torch.arange(ts), indexing="ij")
    local = torch.stack([lx.reshape(-1), ly.reshape(-1)], -1).to(means2d.dtype) + 0.5  # (P, 2)
    chunk = max(1, MAX_CHUNK_ELEMENTS // (ts * ts * L))
    feat_tiles, T_tiles = [], []
    for s in range(0, n_tiles, chunk):
        idx = lists[s : s + chunk]
        tid = torch.arange(s, s + idx.shape[0])
        origin = torch.stack([(tid % tiles_x) * ts, (tid // tiles_x) * ts], -1).to(means2d.dtype)
        pix = origin[:, None, :] + local[None]  # (t, P, 2)
        valid = idx >= 0
        g = idx.clamp_min(0)
        alpha = gaussian_alpha(pix, means2d[g], conics[g], opacities[g], valid)
        out, T = composite(alpha, features[g])
        feat_tiles.append(out)
        T_tiles.append(T)
    feat = torch.cat(feat_tiles)  # (n_tiles, P, C)
    T = torch.cat(T_tiles)
    tiles_y = n_tiles // tiles_x
    feat = feat.reshape(tiles_y, tiles_x, ts, ts, C).permute(0, 2, 1, 3, 4).reshape(tiles_y * ts, tiles_x * ts, C)
    T = T.reshape(tiles_y, tiles_x, ts, ts).permute(0, 2, 1, 3).reshape(tiles_y * ts, tiles_x * ts)
    return feat[:height, :width], 1.0 - T[:height, :width]
