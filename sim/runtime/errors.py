"""Errors whose message is for the user: each names the key, the value and what is allowed (or what is
missing and how to get it). Commands print them as one line (``sim.cli``), never as a traceback."""

from __future__ import annotations


class ConfigError(ValueError):
    """A run's configuration is invalid; the message names the key, the value and what is allowed."""


class StudyError(ValueError):
    """A study's configuration cannot be run; the message says what and why."""


class ReportError(ValueError):
    """A folder cannot be reported on; the message says what is missing and how to get it."""


USER_ERRORS: tuple[type[ValueError], ...] = (ConfigError, StudyError, ReportError)
