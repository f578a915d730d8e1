"""Agent-based simulator of alliance dynamics in local-government public health and social care.

The science: Redgate et al. (2023) A realist approach to understanding alliancing within Local
Government public health and social care service provision. Eur J Public Health 33(1):49-55.
"""

from importlib.metadata import PackageNotFoundError, version

from sim.core import simulate, simulate_to_parquet, tidy
from sim.model import AllianceModel
from sim.outcomes import OUTCOMES
from sim.params import Params

try:
    __version__ = version("alliance-sim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["AllianceModel", "Params", "OUTCOMES", "simulate", "simulate_to_parquet", "tidy", "__version__"]
