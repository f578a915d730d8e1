"""The main job's command (``experiments/sensitivity.py``): run the study (:mod:`sim.analysis.study_run`),
then write the advisory-group report into the complete study folder.

The report is written last and separately: if it fails (a full disk, a missing extra) the study stays complete
and the message says how to rebuild the report (``python experiments/report.py <folder>``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from sim.analysis import study_run
from sim.params import Params
from sim.runtime.errors import ReportError, StudyError
from sim.runtime.extras import MissingExtra, require
from sim.runtime.temporaries import disk_full

__all__ = ["validate", "run", "write_report_safely"]

logger = logging.getLogger(__name__)
#: How a report that failed on a full disk says so (the command then exits 3, the disk-full code; otherwise 2).
DISK_FULL_REASON = "the disk is full"


def validate(cfg: DictConfig) -> Params:
    """Everything :func:`run` checks before work starts (the study's checks, and the report's extra)."""
    base = study_run.validate(cfg)
    _check_report_extra(cfg)
    return base


def _check_report_extra(cfg: DictConfig) -> None:
    if cfg.report:
        try:
            require("report", "The advisory-group report (report=true)")
        except MissingExtra as err:
            raise StudyError(f"{err}; or run the study without it: report=false") from None


def run(cfg: DictConfig) -> tuple[Path, dict[str, Any]]:
    """Run (or resume, or find finished) the study, then its report unless ``report=false`` or already there.
    ``result["report_error"]`` holds a message if the study is complete but its report failed, and
    ``result["report_exit"]`` the exit code: 3 for a full disk, 2 otherwise."""
    _check_report_extra(cfg)  # before any work; study_run.run validates the rest
    folder, result = study_run.run(cfg)
    if cfg.report and _report_missing(folder):
        result["report_error"] = write_report_safely(folder)
        result["report_exit"] = 3 if result["report_error"] and DISK_FULL_REASON in result["report_error"] else 2
    return folder, result


def _report_missing(folder: Path) -> bool:
    """Whether the study's report is missing, or no longer what was written (then it is written again)."""
    from sim.sweeps.integrity import damaged
    from sim.sweeps.runs import read_manifest

    files = read_manifest(folder / "manifest.json").get("files") or {}
    return (not (folder / "report.pdf").is_file()
            or damaged(folder, {k: v for k, v in files.items() if k in study_run.REPORT_FILES}) is not None)


def write_report_safely(folder: Path) -> str | None:
    """Write the report into the complete study folder; on failure return a message (the study stays)."""
    for noisy in ("weasyprint", "fontTools"):  # font-subsetting chatter at WARNING, before they are imported
        logging.getLogger(noisy).setLevel(logging.ERROR)
    started = time.perf_counter()
    try:
        from sim.report.advisory import write_report

        write_report(folder)
    except Exception as err:  # noqa: BLE001 - whatever failed, the finished study must stay and be reported
        text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        reason = DISK_FULL_REASON if disk_full(err) else text if isinstance(err, ReportError | MissingExtra) else (
            f"{type(err).__name__}: {text}")
        return (f"the report could not be written ({reason}); the study itself is complete in {folder}; "
                f"rebuild the report with: python experiments/report.py {folder}")
    logger.info("[report] %.1f s", time.perf_counter() - started)
    return None
