"""Shared test helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim import AllianceModel, Params


def run_model(params: Params, seed: int, steps: int | None = None) -> pd.DataFrame:
    """Run the Mesa model and return its DataCollector table (row t = month t)."""
    model = AllianceModel(params=params, seed=seed)
    model.run(steps)
    return model.datacollector.get_model_vars_dataframe()


def end_values(params: Params, seeds, outcome: str, month: int | None = None) -> np.ndarray:
    """An outcome at ``month`` (default: end of horizon) for each seed, from the Mesa model."""
    month = params.horizon if month is None else month
    return np.array([run_model(params, s, month)[outcome].iloc[month] for s in seeds])
