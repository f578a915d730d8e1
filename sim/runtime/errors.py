"""Errors whose message is for the user: each names the key, the value and what is allowed (or what is
missing and how to get it). Commands print them as one line (``sim.sweeps.cli``), never as a traceback."""

from __future__ import annotations

from sim.runtime.extras import MissingExtra


class ConfigError(ValueError):
    """A run's configuration is invalid; the message names the key, the value and what is allowed."""


class StudyError(ValueError):
    """A study's configuration cannot be run; the message says what and why."""


class ReportError(ValueError):
    """A folder cannot be reported on; the message says what is missing and how to get it."""


class DamagedResults(ValueError):
    """A finished file no longer holds what was written (its content digest differs from its manifest's); the
    message names the file and the command that remakes it."""


class CalibrationError(ValueError):
    """Bad calibration input (targets, prior, ensemble file, settings); the message names the field, the value and
    what is allowed."""


class Interrupted(KeyboardInterrupt):
    """A command was asked to stop (SIGINT or SIGTERM): a ``KeyboardInterrupt``, so every ``finally`` and every
    handler of Ctrl-C releases locks and removes temporaries alike; ``signum`` gives the exit code 128 + signum."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: What commands report as one line (exit 2); a missing extra names the pip install that fixes it.
USER_ERRORS: tuple[type[Exception], ...] = (ConfigError, StudyError, ReportError, DamagedResults, CalibrationError,
                                             MissingExtra)
