"""`video2robo parse`: one video in, a demo folder out (object models, 6D trajectories, skills)."""

from __future__ import annotations

from video2robo.parse.config import ParseConfig

Config = ParseConfig


def run(cfg: ParseConfig) -> int:
    from video2robo.parse import run_parse

    out = run_parse(cfg)
    from video2robo.demo_folder import load_info

    info = load_info(out)
    s = info.skills
    print(f"wrote demo folder {out}: {len(info.frame_indices)} frames, objects "
          + ", ".join(f"{o.name} ({o.role})" for o in info.objects))
    if s is not None:
        print(f"skills: grasp frame {s.grasp_frame}, release frame {s.release_frame}, task segment {s.task_segment[0]}-{s.task_segment[1]}")
    for w in info.warnings:
        print(f"warning: {w}")
    print(f"look at {out / 'overlay.mp4'} and {out / 'report.html'}")
    return 0
