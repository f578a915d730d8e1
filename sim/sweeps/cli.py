"""What every command in ``experiments/`` shares: one readable line instead of a traceback, a private Hydra
scratch folder removed at the end, workers that die with the command, and plain log lines of the ``sim``
module loggers (Hydra commands: ``hydra/job_logging=plain``; others: :func:`configure_logging`).

    if __name__ == "__main__":
        command(main)                 # main: the @hydra.main function (or any function)

    @hydra.main(...)
    @task
    def main(cfg): ...                # runs in the job process (maybe a joblib/submitit worker)

Exit codes: 2 bad input, a refused rerun, damaged results or an unwritable folder; 3 a full disk (nothing
partial is left); 4 out of memory; 130 / 143 interrupted by SIGINT (Ctrl-C) / SIGTERM (one line: what was
kept, how to resume; locks, temporaries and the scratch folder released).
"""

from __future__ import annotations

import errno
import functools
import gc
import logging
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sim.runtime.processes import claim_ownership, is_alive, watch_owner

SCRATCH_ENV = "ALLIANCE_SIM_SCRATCH"
#: Level of the ``sim`` loggers for commands without Hydra (Hydra commands: hydra.job_logging.loggers.sim.level).
LOG_LEVEL_ENV = "ALLIANCE_SIM_LOG_LEVEL"
#: Launcher presets and plugins that need the extra [cluster].
CLUSTER_LAUNCHERS = ("slurm", "slurm_small", "submitit_local", "submitit_slurm")


def configure_logging(level: str | int | None = None) -> None:
    """Plain log lines of the ``sim`` loggers on stderr at ``level`` (default: ``$ALLIANCE_SIM_LOG_LEVEL`` or
    INFO). A Hydra command replaces this with its ``hydra/job_logging`` config when its job starts."""
    level = level or os.environ.get(LOG_LEVEL_ENV, "INFO")
    logger = logging.getLogger("sim")
    logger.setLevel(level.upper() if isinstance(level, str) else level)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions whose message is for the user (they name the key, the value and what is allowed)."""
    from sim.runtime.errors import USER_ERRORS

    return USER_ERRORS


def fail(err: BaseException) -> int:
    """Print one line for ``err`` and return the exit code, or re-raise it if it is a bug."""
    from sim.runtime.temporaries import disk_full

    if isinstance(err, BrokenPipeError):  # the reader went away (e.g. `| head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if isinstance(err, user_errors()):
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 2
    if disk_full(err):
        where = getattr(err, "filename", None) or "the results folder"
        print(f"error: the disk is full (or a quota or file-size limit was reached) while writing {where}; "
              "finished results are kept and nothing partial was left; free space and rerun the same command "
              "to complete the rest", file=sys.stderr, flush=True)
        return 3
    if isinstance(err, OSError) and err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        where = Path(err.filename) if err.filename else None
        if where is not None and where.name.startswith(".") and ".tmp-" in where.name:
            where = where.parent  # a temporary beside its destination: name the folder
        print(f"error: cannot write into {where or 'the results folder'} ({err.strerror or err}); choose a writable "
              "folder (or copy the results to one) and rerun there", file=sys.stderr, flush=True)
        return 2
    if isinstance(err, MemoryError):
        print("error: out of memory; run fewer seeds, steps or rows at a time (experiment.keep=last, "
              "experiment.n_chunks)", file=sys.stderr, flush=True)
        return 4
    raise err


def task(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a Hydra task function: die with the owning command, and turn user errors into one line."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        watch_owner()
        try:
            return fn(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - fail() re-raises anything that is not for the user
            sys.stdout.flush()
            sys.exit(fail(err))

    return wrapper


def _scratch_root() -> Path:
    return Path(os.environ.get("TMPDIR") or tempfile.gettempdir()) / "alliance-sim-hydra"


def remove_dead_scratch(root: Path) -> None:
    """Remove scratch folders of commands that were killed (named ``cmd-<pid>-...``; owner dead)."""
    if not root.is_dir():
        return
    for path in root.glob("cmd-*"):
        try:
            pid = int(path.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if not is_alive(pid):
            shutil.rmtree(path, ignore_errors=True)


def command(main: Callable[[], Any],
            prevalidate: Callable[[list[str]], Iterable[os.PathLike] | None] | None = None) -> None:
    """Run a command's ``main`` as the owner of everything it starts, in a private Hydra scratch folder
    that is removed when it ends; ``prevalidate(argv)`` may check a whole sweep before any job starts and
    return the sweep folders it writes, which are held (:func:`sim.sweeps.results.sweep_lock`) until it ends.
    SIGINT and SIGTERM end it with one line and exit 130 / 143 (:mod:`sim.runtime.interrupts`)."""
    from sim.runtime.interrupts import interruption, stop_on_signals

    if claim_ownership():
        stop_on_signals()
    else:
        watch_owner()  # a subprocess of another command: die with it
    configure_logging()
    scratch = None
    root = _scratch_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        remove_dead_scratch(root)
        scratch = tempfile.mkdtemp(prefix=f"cmd-{os.getpid()}-", dir=root)
        os.environ[SCRATCH_ENV] = scratch  # sim/conf/*.yaml put Hydra's run and sweep folders here
    except OSError:
        scratch = None  # an unwritable TMPDIR: Hydra's default folder is used
    # The modules imported so far live as long as the process: moved out of the garbage collector's
    # generations, they are not scanned again by every full collection (a sweep runs 10-15 % faster).
    gc.freeze()
    folders: list[str] = []
    try:
        with ExitStack() as held:
            if prevalidate is not None:
                try:
                    folders = [str(f) for f in prevalidate(sys.argv[1:]) or ()]
                    from sim.sweeps.results import sweep_lock

                    for folder in folders:
                        held.enter_context(sweep_lock(folder))
                except Exception as err:  # noqa: BLE001 - fail() re-raises anything that is not for the user
                    sys.exit(fail(err))
            main()
    except KeyboardInterrupt as err:  # Ctrl-C or SIGTERM: every finally above has run
        from sim.sweeps.results import release_abandoned

        for folder in folders:  # what workers killed with the sweep held
            release_abandoned(folder)
        line, code = interruption(err, [f"finished results in {f}" for f in folders])
        print(line, file=sys.stderr, flush=True)
        sys.exit(code)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def hydra_message(err: BaseException, defaults: Any = None) -> str:
    """One readable line for Hydra's composition errors (which span several lines), naming the override,
    the value and what is allowed; ``defaults`` (the default config, or a function composing it) lists
    the allowed keys."""
    text = str(err).strip()
    first = text.splitlines()[0] if text else type(err).__name__
    m = re.match(r"Could not override '([^']+)'", first)
    if m:
        key = m.group(1)
        parent, _, leaf = key.rpartition(".")
        allowed = ""
        try:
            from omegaconf import OmegaConf

            config = defaults() if callable(defaults) else defaults
            node = OmegaConf.select(config, parent) if parent else config
            allowed = "; allowed: " + ", ".join(str(k) for k in node.keys())
        except Exception:  # noqa: BLE001 - no list to offer
            pass
        return f"{key}: no such setting ({leaf!r} is not a key of {parent or 'the config'}){allowed}"
    m = re.match(r"Error merging override (.+)", first)
    if m:
        cause = err.__cause__ or err.__context__
        reason = str(cause).strip().splitlines()[0] if cause is not None and str(cause).strip() else first
        if "is not a ListConfig" in reason:
            reason += " Give a list, e.g. key=[a,b]"
        return f"{m.group(1)}: {reason}"
    m = re.match(r"Could not append to config. An item is already at '([^']+)'", first)
    if m:
        return f"+{m.group(1)}: {m.group(1)!r} already exists; set it without the '+' ({m.group(1)}=...)"
    if first.startswith("Config group override must be"):
        return "an override has no key (e.g. '=5'); write key=value, e.g. seeds=10"
    m = re.search(r"Could not find '([^']+)'", first + "\n" + text)
    if m:
        group, _, value = m.group(1).rpartition("/")
        options = re.findall(r"^\t(\S+)$", text.split("Config search path")[0], flags=re.M)
        return f"{group}={value}: no such {group} ({m.group(1)}); available: {', '.join(options) or 'none'}"
    m = re.match(r"Error parsing override '(.*)'", first)
    if m:
        return f"{m.group(1)!r}: not a valid override; write key=value (e.g. seeds=10) or key=[a,b] for a list"
    if first.startswith("Ambiguous value for argument"):
        arg = first.split("'", 2)[1] if "'" in first else ""
        return f"{arg}: several values; use key=[a,b] for a list or add -m to sweep over them"
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


#: Sweeps up to this many jobs are checked job by job; larger ones on a subset covering every value.
CHECK_EVERY_JOB = 200


def _covering(jobs: list[list[str]]) -> list[tuple[int, list[str]]]:
    """The jobs to compose and validate: all of them for a small sweep; for a large one (composing takes
    about 0.1 s a job) the jobs that first use each value of each override, so every value is checked."""
    if len(jobs) <= CHECK_EVERY_JOB:
        return list(enumerate(jobs))
    seen: set[str] = set()
    chosen = []
    for k, job in enumerate(jobs):
        if not seen.issuperset(job):
            seen.update(job)
            chosen.append((k, job))
    return chosen


#: Hydra flags that take a value (the value is not an override).
_FLAGS_WITH_VALUE = {"--config-name", "-cn", "--config-path", "-cp", "--config-dir", "-cd", "--experimental-rerun",
                     "--info", "-i"}
#: Flags that ask Hydra for information instead of a run: left to Hydra.
_INFO_FLAGS = {"-h", "--help", "--hydra-help", "-c", "--cfg", "--info", "-i", "--shell-completion", "-sc",
               "--version", "-p", "--package", "--resolve"}


def config_checker(config_dir: str | os.PathLike, config_name: str, validate: Callable[[Any], Any],
                   destination: Callable[[Any], os.PathLike] | None = None) -> Callable[[list[str]], list[Path]]:
    """A ``prevalidate`` for :func:`command`: compose and validate the run (every job of a ``-m`` sweep)
    before any starts, and refuse it in one line naming each bad job (a sweep must not stop half-way).
    Returns the ``destination`` folders of the jobs checked (each value of a large sweep is among them)."""

    def check(argv: list[str]) -> list[Path]:
        if any(a in _INFO_FLAGS for a in argv):
            return []
        multirun = any(a in ("-m", "--multirun") for a in argv)
        overrides, skip = [], False
        for a in argv:
            if skip:
                skip = False
            elif a in _FLAGS_WITH_VALUE:
                skip = True
            elif not a.startswith("-"):
                overrides.append(a)
        from hydra import compose, initialize_config_dir
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
        from hydra.core.override_parser.overrides_parser import OverridesParser

        from sim.runtime.errors import ConfigError
        from sim.runtime.extras import install_hint, missing

        for o in overrides:
            key, _, values = o.lstrip("+~").partition("=")
            if key != "hydra/launcher":
                continue
            known = launcher_names()
            unknown = [v for v in values.split(",") if v not in known]
            if unknown:
                raise ConfigError(f"hydra/launcher={unknown[0]}: no such launcher; available: {', '.join(known)}")
            if set(values.split(",")) & set(CLUSTER_LAUNCHERS) and missing("cluster"):
                raise ConfigError(f"{o}: needs the optional dependencies of alliance-sim[cluster]; install them "
                                  f"with: {install_hint('cluster')}")

        with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
            def defaults() -> Any:  # composed only when a message needs the allowed keys
                return compose(config_name)

            try:
                parsed = OverridesParser.create().parse_overrides(overrides)
                jobs = ([job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]
                        if multirun else [overrides])
            except Exception as err:  # noqa: BLE001 - Hydra's parse errors, made one line
                raise ConfigError(hydra_message(err, defaults)) from None
            swept = {o.key_or_group for o in parsed if o.is_sweep_override()}
            bad: list[str] = []
            folders: dict[Path, None] = {}
            checked = _covering(jobs)
            for k, job in checked:
                try:
                    cfg = compose(config_name, overrides=[o for o in job if not o.lstrip("+~").startswith("hydra")])
                    validate(cfg)
                    if destination is not None:
                        folders[Path(destination(cfg))] = None
                except user_errors() as err:
                    message = str(err)
                except Exception as err:  # noqa: BLE001 - Hydra's composition errors, made one line
                    message = hydra_message(err, defaults)
                else:
                    continue
                if not multirun:
                    raise ConfigError(message)
                label = ",".join(o for o in job if o.split("=", 1)[0].lstrip("+~") in swept) or "base"
                bad.append(f"job {k} ({label}): {message}")
        if bad:
            more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
            of = (f"{len(jobs)} jobs" if len(checked) == len(jobs) else
                  f"{len(checked)} jobs checked (covering every value of the {len(jobs)})")
            raise ConfigError(f"{len(bad)} of {of} are invalid, so none was started: " + " | ".join(bad[:3]) + more)
        return list(folders)

    return check


def launcher_names() -> list[str]:
    """What ``hydra/launcher=`` may name: the shipped presets and the installed Hydra plugins' launchers."""
    from sim.conf import launcher_presets
    from sim.sweeps.cluster import PLUGIN_LAUNCHERS

    return sorted({*launcher_presets(), *PLUGIN_LAUNCHERS})
