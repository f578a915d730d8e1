"""Agent-based simulator of alliance dynamics in local-government public health and social care.

The science: Redgate et al. (2023) A realist approach to understanding alliancing within Local
Government public health and social care service provision. Eur J Public Health 33(1):49-55.
"""

from importlib.metadata import PackageNotFoundError, version

from sim.processes import watch_owner

# A worker of a command (see sim.processes) starts watching its owner before the slow imports below, so
# a kill -9 of the command ends it even while it is still starting up.
watch_owner()

from sim.core import simulate, simulate_to_parquet, tidy  # noqa: E402
from sim.model import AllianceModel  # noqa: E402
from sim.outcomes import OUTCOMES  # noqa: E402
from sim.params import Params  # noqa: E402

try:
    __version__ = version("alliance-sim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["AllianceModel", "Params", "OUTCOMES", "simulate", "simulate_to_parquet", "tidy", "__version__"]
