"""Hydra configs shipped as package data: scenario presets (``scenario/``), experiments, launchers and
studies. Commands find them on Hydra's search path as ``pkg://sim.conf`` (:data:`SEARCH_PATH`), code as
files through :func:`directory`, so they work from a checkout and from an installed package alike. A new
preset is one file in ``scenario/``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: Hydra's ``config_path`` for the shipped configs.
SEARCH_PATH = "pkg://sim.conf"


def directory() -> Path:
    """The folder of the shipped configs on disk (``initialize_config_dir`` and globbing need a real one)."""
    return Path(str(files(__name__)))


def launcher_presets() -> list[str]:
    """Names of the launcher presets shipped in ``hydra/launcher/`` (``local``, ``slurm``, ...)."""
    return sorted(p.stem for p in (directory() / "hydra" / "launcher").glob("*.yaml"))
