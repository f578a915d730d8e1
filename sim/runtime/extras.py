"""Optional features and the extra that installs each: importing a feature whose extra is missing fails
with one line naming the ``pip install`` that fixes it, instead of a bare ``ModuleNotFoundError``."""

from __future__ import annotations

from importlib.util import find_spec

#: Extra -> the modules it provides (the first missing one is named in the error).
EXTRAS: dict[str, tuple[str, ...]] = {
    "app": ("solara", "ipyvuetify", "ipyvue", "mesa.visualization"),
    "report": ("jinja2", "weasyprint"),
    "discovery": ("ema_workbench", "sklearn"),
    "cluster": ("submitit", "hydra_plugins.hydra_submitit_launcher"),
}


class MissingExtra(ImportError):
    """A feature's optional dependencies are not installed; the message names the extra to install."""


def missing(extra: str) -> str | None:
    """The first module of ``extra`` that cannot be imported, or None when the extra is installed."""
    for module in EXTRAS[extra]:
        try:
            if find_spec(module) is None:
                return module
        except (ImportError, ValueError):  # a parent package is missing too
            return module
    return None


def install_hint(extra: str) -> str:
    return f"pip install 'alliance-sim[{extra}]'"


def require(extra: str, feature: str) -> None:
    """Raise :class:`MissingExtra` naming ``feature`` and the extra to install if ``extra`` is missing."""
    module = missing(extra)
    if module is not None:
        raise MissingExtra(f"{feature} needs the optional dependencies of alliance-sim[{extra}] ({module!r} is "
                           f"not installed); install them with: {install_hint(extra)}")
