"""Generation statistics like MimicGen's: attempts, successes, rejections by reason, time, lengths."""

from __future__ import annotations

from collections import Counter

import numpy as np


def summarise(episode_metas: list[dict], run_seconds: float, extra: dict) -> dict:
    """Stats over all finished episodes (read back from their files, so resumed runs count fully).

    Each episode meta carries its own `attempts`, `rejections` (one reason per rejected sample),
    `candidate_rejections` (every rejected grasp candidate as "reason@phase") and `seconds`.
    """
    rej, cand = Counter(), Counter()
    for m in episode_metas:
        rej.update(m.get("rejections", {}))
        cand.update(m.get("candidate_rejections", {}))
    attempts = sum(int(m.get("attempts", 1)) for m in episode_metas)
    succ = len(episode_metas)
    lengths = np.array([m["steps"] for m in episode_metas]) if episode_metas else np.zeros(0)
    secs = np.array([m.get("seconds", 0.0) for m in episode_metas]) if episode_metas else np.zeros(0)
    return {
        **extra,
        "num_attempts": attempts,
        "num_success": succ,
        "num_failures": attempts - succ,
        "success_rate": succ / attempts if attempts else 0.0,
        "rejections": dict(rej.most_common()),
        "candidate_rejections": dict(cand.most_common()),
        "seconds_per_demo": float(secs.mean()) if succ else None,
        "seconds_per_demo_total": float(secs.sum()),
        "run_seconds": run_seconds,
        "episode_length": {"mean": float(lengths.mean()), "min": int(lengths.min()), "max": int(lengths.max()),
                           "std": float(lengths.std())} if succ else None,
    }
