"""The sweep layer: Hydra configs (:mod:`~sim.sweeps.config`), paired runs and row sweeps
(:mod:`~sim.sweeps.runs`, :mod:`~sim.sweeps.rows`, :mod:`~sim.sweeps.paired`), results folders and their identity
(:mod:`~sim.sweeps.results`, :mod:`~sim.sweeps.identity`), evaluation of row tables through a launcher
(:mod:`~sim.sweeps.dispatch`), the SLURM checks (:mod:`~sim.sweeps.cluster`) and what every command shares
(:mod:`~sim.sweeps.cli`). Imports from :mod:`sim.model`, :mod:`sim.params` and :mod:`sim.runtime` only."""
