"""The logistic function that makes mechanisms respond smoothly to context."""

from __future__ import annotations

from scipy.special import expit


def logistic(x):
    """1 / (1 + exp(-x)), elementwise and overflow-free."""
    return expit(x)
