"""What a worker process has loaded before its first chunk.

Parallel runs (:func:`sim.model.core.simulate` with ``workers > 1``, a study's local process pool) fork
their workers from a fork server that imports this module once. Importing it runs one scenario for one
month, so numba's machine code for the compiled month, the walk and the formulas' ufuncs is loaded from
its cache there, once, and every worker forked afterwards starts with it instead of loading it again
(about half a second per worker, which on a short chunk was much of the run).

Importing this module runs a simulation, by design: import it only to warm a process up.
"""

from __future__ import annotations

import numpy as np

from sim.model.core import simulate
from sim.params import Params


def load_compiled_code() -> None:
    """Run one default scenario for one month (every compiled function of a run is then loaded)."""
    simulate([Params(horizon=1)], np.arange(1))


try:
    load_compiled_code()
except Exception:  # noqa: BLE001 - only a head start: a worker that lacks it loads the code itself
    pass
