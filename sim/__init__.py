"""Agent-based simulator of alliance dynamics in local-government public health and social care.

The science: Redgate et al. (2023) A realist approach to understanding alliancing within Local
Government public health and social care service provision. Eur J Public Health 33(1):49-55.

The public names below are resolved on first use (PEP 562), so ``import sim.params`` (or any light
subpackage) never loads Mesa, xarray or matplotlib; ``from sim import simulate`` loads the core then.
The layers and where things go: docs/architecture.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from sim.runtime.processes import watch_owner

# A worker of a command (see sim.runtime.processes) starts watching its owner before any slow import, so a
# kill -9 of the command ends it even while it is still starting up.
watch_owner()

#: Public name -> the module that defines it (imported on first access).
_PUBLIC: dict[str, str] = {
    "Params": "sim.params",
    "AllianceModel": "sim.model.alliance",
    "OUTCOMES": "sim.model.outcomes",
    "simulate": "sim.model.core",
    "simulate_to_parquet": "sim.model.core",
    "tidy": "sim.model.core",
}

__all__ = ["AllianceModel", "Params", "OUTCOMES", "simulate", "simulate_to_parquet", "tidy", "__version__"]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time __getattr__ below does the work
    from sim.model.alliance import AllianceModel
    from sim.model.core import simulate, simulate_to_parquet, tidy
    from sim.model.outcomes import OUTCOMES
    from sim.params import Params

    __version__: str


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("alliance-sim")
    except PackageNotFoundError:  # a source tree that is not installed
        return "0.0.0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _version()
    elif name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name]), name)
    else:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    globals()[name] = value  # resolved once; later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
