"""Skill parsing from object trajectories: grasp/release from motion and stillness, the task segment
(source within 3 cm of the target) and the relative pose trajectory T_rel."""

from video2robo.skills.parse import SkillParams, detect_grasp_release, parse_skills, relative_trajectory, surface_distance, task_segment

__all__ = ["SkillParams", "detect_grasp_release", "parse_skills", "relative_trajectory", "surface_distance", "task_segment"]
