"""Dataset writers (robomimic / Diffusion Policy HDF5, Diffusion Policy zarr replay buffer)."""
