"""Generate: Gaussian Franka replays a demo's skill with augmentation and writes trainer-ready datasets."""
