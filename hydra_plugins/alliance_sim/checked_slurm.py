"""alliance-sim's Hydra launcher plugin (Hydra loads launchers only from the ``hydra_plugins`` namespace).

``CheckedSlurmLauncher`` is the submitit SLURM launcher with a check before ``sbatch``: a job no node could
ever run fails at once with one line instead of pending forever (see :mod:`sim.sweeps.slurm`). Imports stay lazy so
that Hydra's plugin discovery, which imports every module here, remains fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

try:
    from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher
except ImportError:  # without the extra [cluster] there is no SLURM launcher to check (Hydra scans this module)
    SlurmLauncher = None

if SlurmLauncher is not None:

    class CheckedSlurmLauncher(SlurmLauncher):
        """Hydra's submitit SLURM launcher that refuses, before submitting, a job no node could ever run."""

        def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Any:
            from sim.sweeps.slurm import launch_checked

            return launch_checked(self.params, lambda: super(CheckedSlurmLauncher, self).launch(job_overrides,
                                                                                                initial_job_idx))
