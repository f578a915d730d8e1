"""Interrupts: Ctrl-C (SIGINT) and SIGTERM end a command with one line saying what was kept and how to resume,
exit 130 / 143, after every ``finally`` has run (locks released, temporaries and scratch folders removed).

The top-level command turns SIGTERM into :class:`~sim.runtime.errors.Interrupted` (a ``KeyboardInterrupt``), so
both signals unwind the same way; the processes it starts ignore SIGINT (a terminal sends Ctrl-C to all of them)
and end when it ends (:mod:`sim.runtime.processes`), so only one line is printed. What a command keeps on an
interruption is registered with :func:`keeping` while it works.

A signal can arrive while compiled code that calls back into Python is running (scipy's Sobol set-up reads its
tables through numpy): the exception is then "ignored" by that code, printed as an unraisable error, and the
command would run on. :func:`stop_on_signals` therefore also installs an unraisable-exception hook that sends the
same signal again, so it is raised at the next line of plain Python and unwinds as usual, silently. Such code may
also print the exception through ``sys.excepthook`` (Cython does), and a helper process (the worker pool's fork
server) ends on an :class:`Interrupted` nobody catches: the exception hook it installs prints nothing for one, so
the command's own line stays the only one.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sim.runtime.errors import Interrupted

_kept: list[str] = []


def _raise_interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


def _resend_swallowed(unraisable: object) -> None:
    """``sys.unraisablehook``: an :class:`Interrupted` that compiled code swallowed is sent again as its signal
    (handled at the next line of Python, where it can propagate); any other unraisable error as before."""
    err = getattr(unraisable, "exc_value", None)
    if isinstance(err, Interrupted):
        # not from here: a handler run inside this hook would be swallowed again; a moment later, from a thread
        resend = threading.Timer(0.01, os.kill, (os.getpid(), err.signum))
        resend.daemon = True
        resend.start()
        return
    _previous_unraisablehook(unraisable)


_previous_unraisablehook = sys.unraisablehook


def _quiet_interrupted(kind: type[BaseException], err: BaseException, tb: object) -> None:
    """``sys.excepthook``: an :class:`Interrupted` is a requested stop, not an error; print nothing for it (the
    command that owns the stop prints its one line); anything else as before."""
    if not isinstance(err, Interrupted):
        _previous_excepthook(kind, err, tb)


_previous_excepthook = sys.excepthook


def stop_on_signals() -> None:
    """In the main thread: SIGTERM and SIGINT raise :class:`Interrupted` naming the signal (and again, if compiled
    code swallowed it)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupted)
        signal.signal(signal.SIGINT, _raise_interrupted)
        sys.unraisablehook = _resend_swallowed
        sys.excepthook = _quiet_interrupted


def unwinds_on_sigterm() -> bool:
    """Whether SIGTERM raises :class:`Interrupted` in this process (so ``finally`` blocks run)."""
    return signal.getsignal(signal.SIGTERM) is _raise_interrupted


def ignore_interrupts() -> None:
    """In a worker process: leave Ctrl-C to the command that owns it (the worker ends when the command does)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def keeping(what: str) -> Iterator[None]:
    """An interruption of the block reports ``what`` as kept (e.g. "the finished stages in ...")."""
    try:
        yield
    except KeyboardInterrupt:
        _kept.append(what)
        raise


def interruption(err: KeyboardInterrupt, kept: list[str] | None = None) -> tuple[str, int]:
    """The one line to print for an interruption and the exit code (128 + the signal's number)."""
    signum = getattr(err, "signum", signal.SIGINT)
    name = signal.Signals(signum).name
    where = "; ".join(dict.fromkeys([*(kept or []), *_kept])) or "finished results"
    return (f"interrupted ({name}); kept: {where}; nothing half-written is left; rerun the same command to "
            "resume (finished work is skipped)", 128 + signum)
