"""Feature selection: information-value threshold, then a correlation filter on the WoE features."""

from __future__ import annotations

import numpy as np
import pandas as pd


def select_features(iv: dict[str, float], woe: pd.DataFrame, iv_threshold: float = 0.02,
                    max_corr: float = 0.8) -> tuple[list[str], dict[str, str]]:
    """Keep features with ``IV >= iv_threshold``; of any pair with ``|r| > max_corr`` keep the higher IV.

    Greedy in order of decreasing IV: a feature is kept when its WoE correlates at most ``max_corr`` (absolute
    Pearson) with every feature kept before it. Returns (selected, {dropped feature: reason}).
    """
    dropped: dict[str, str] = {}
    ranked = sorted(iv, key=lambda f: -iv[f])
    candidates = []
    for f in ranked:
        if iv[f] < iv_threshold:
            dropped[f] = f"IV {iv[f]:.4f} < {iv_threshold}"
        elif woe[f].std() == 0:
            dropped[f] = "single bin"
        else:
            candidates.append(f)
    if not candidates:
        return [], dropped
    corr = np.corrcoef(woe[candidates].to_numpy(), rowvar=False).reshape(len(candidates), len(candidates))
    kept: list[int] = []
    for i, f in enumerate(candidates):
        clash = [(abs(corr[i, j]), candidates[j]) for j in kept if abs(corr[i, j]) > max_corr]
        if clash:
            r, other = max(clash)
            dropped[f] = f"|r| = {r:.2f} with {other} (higher IV)"
        else:
            kept.append(i)
    return [candidates[i] for i in kept], dropped
