"""Submitting to SLURM through submitit, checked first (extra ``[cluster]``).

- :func:`checked_submission` checks a job's request against ``sinfo`` (:func:`sim.sweeps.cluster.check_request`),
  reads job states from ``squeue`` where accounting is off (``sacct`` then fails on every poll, and a job that
  died without a result would be waited on forever), then submits; an impossible request or an ``sbatch``
  refusal raises :class:`~sim.sweeps.cluster.ClusterError` with one line.
- :func:`launch_checked` is the same for ``CheckedSlurmLauncher`` (``hydra_plugins/alliance_sim``, used by
  ``sim/conf/hydra/launcher/slurm*.yaml``): there the line is printed and the command exits 2.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, NoReturn

from sim.runtime.extras import require

require("cluster", "Running jobs on SLURM")

from submitit.core.utils import FailedJobError  # noqa: E402
from submitit.slurm.slurm import SlurmInfoWatcher, SlurmJob  # noqa: E402

from sim.sweeps.cluster import ClusterError, SlurmRequest, check_request  # noqa: E402

__all__ = ["SqueueWatcher", "checked_submission", "launch_checked"]

logger = logging.getLogger(__name__)


def _accounting_enabled() -> bool:
    try:
        proc = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return True
    match = re.search(r"^AccountingStorageType\s*=\s*(\S+)", proc.stdout, re.MULTILINE)
    return not (match and match.group(1).endswith("/none"))


class SqueueWatcher(SlurmInfoWatcher):
    """Job states from ``squeue`` for clusters without accounting (``sacct`` fails there). A job SLURM no
    longer lists has ended; submitit then reads its result, or reports the job's log if there is none."""

    def update(self) -> None:
        pending = self._registered - self._finished
        arrays = sorted({job.split("_")[0] for job in pending})
        if not arrays:
            return
        self._num_calls += 1
        try:
            proc = subprocess.run(["squeue", "-h", "-r", "-t", "all", "-o", "%i|%T|%N", "-j", ",".join(arrays)],
                                  capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as err:
            logging.getLogger("submitit").warning(f"squeue failed ({err}); will ask again")
            return
        if proc.returncode == 0 or "Invalid job id" in proc.stderr:
            seen = {}
            for line in proc.stdout.splitlines():
                job, state, nodes = (line.split("|") + ["", ""])[:3]
                seen[job.strip()] = {"JobID": job.strip(), "State": state.strip(), "NodeList": nodes.strip()}
            for job in pending:
                seen.setdefault(job, {"JobID": job, "State": "ENDED", "NodeList": ""})
            self._info_dict.update(seen)
        self._last_status_check = time.time()
        for job in pending:
            if self.is_done(job, mode="cache"):
                self._finished.add(job)


def checked_submission(params: dict[str, Any], submit: Callable[[], Any]) -> Any:
    """Check the request in the launcher parameters ``params``, watch job states with ``squeue`` where
    accounting is off, then return ``submit()``; :class:`ClusterError` (one line) for a request no node could
    run or an ``sbatch`` refusal."""
    check_request(SlurmRequest.from_launcher(params))
    if not _accounting_enabled() and not isinstance(SlurmJob.watcher, SqueueWatcher):
        SlurmJob.watcher = SqueueWatcher(delay_s=60)
    submitted = time.time()
    try:
        return submit()
    except FailedJobError as err:
        # sbatch's own refusal (e.g. a QOS limit sinfo does not show); a job that ran and failed re-raises
        # with submitit's message, which holds the job's log
        lines = [ln.strip() for ln in str(err).splitlines() if ln.strip().startswith("sbatch:")]
        if not lines:
            raise
        raise ClusterError(f"SLURM refused the job after {time.time() - submitted:.1f} s: {lines[-1]}") from None


def _fail(message: str) -> NoReturn:
    # SystemExit passes through Hydra's error handler, which would print a traceback for an exception.
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def launch_checked(params: dict[str, Any], launch: Callable[[], Any]) -> Any:
    """What ``CheckedSlurmLauncher.launch`` does: :func:`checked_submission`, with a refusal printed as one
    line and exit code 2."""
    try:
        return checked_submission(params, launch)
    except ClusterError as err:
        _fail(str(err))
