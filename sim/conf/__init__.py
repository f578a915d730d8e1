"""Hydra configs shipped as package data: scenario presets (``scenario/``), experiments, launchers and
studies. Commands find them on Hydra's search path as ``pkg://sim.conf`` (:data:`SEARCH_PATH`), code as
files through :func:`directory`, so they work from a checkout and from an installed package alike. A new
preset is one file in ``scenario/``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

#: Hydra's ``config_path`` for the shipped configs.
SEARCH_PATH = "pkg://sim.conf"


def directory() -> Path:
    """The folder of the shipped configs on disk (``initialize_config_dir`` and globbing need a real one)."""
    return Path(str(files(__name__)))


def launcher_presets() -> list[str]:
    """Names of the launcher presets shipped in ``hydra/launcher/`` (``local``, ``slurm``, ...)."""
    return sorted(p.stem for p in (directory() / "hydra" / "launcher").glob("*.yaml"))


def read_yaml(path: str | Path, what: str, error: type[Exception]) -> Any:
    """The YAML document in ``path`` (a user's file: targets, a locality's context); a missing file or bad YAML
    raises ``error`` with one line naming ``what`` and the path."""
    import yaml

    try:
        return yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise error(f"{what} {str(path)!r}: not found") from None
    except yaml.YAMLError as err:
        raise error(f"{what} {str(path)!r}: not valid YAML ({err})") from None
