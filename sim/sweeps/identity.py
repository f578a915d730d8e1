"""Result identity: what produced a results folder, so a rerun reuses it only when it would give the same.

A finished folder (a paired run, a chunk of a row sweep, a study) records an identity: a hash of the
parts of the resolved config that change the numbers (never ``workers``, ``name``, ``results_root``, the
force flag or free text), the package version, a digest of the model's source code (the one the compiled
cache is stamped with: a changed constant changes the numbers even when the version does not) and, for row
sweeps, the rows file's content. A rerun skips the work only when the recorded identity equals its own;
otherwise it refuses and names what differs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

import sim

#: Keys that never change a run's numbers (dotted paths into the resolved config).
NEUTRAL_KEYS = ("workers", "name", "results_root", "force", "description", "report", "figure", "experiment.chunk",
                "experiment.rows_file")


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_source() -> str:
    """SHA-256 (hex) of the model's source files: the stamp of the compiled model's cache. The one import of
    it outside :mod:`sim.model` (repoint here if the model moves)."""
    from sim.engine.compiled import model_source_digest

    return model_source_digest().hex()


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, Mapping):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: node}


def identity_record(cfg: DictConfig | Mapping, *, neutral: Iterable[str] = NEUTRAL_KEYS,
                    **extra: Any) -> dict[str, Any]:
    """The identity of a run: ``{"hash": ..., "inputs": {dotted key: value}}`` from its resolved config,
    without the ``neutral`` keys, plus the package version and ``extra`` inputs (e.g. a rows file's hash)."""
    container = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    flat = _flatten(container)
    neutral = tuple(neutral)
    inputs = {k: v for k, v in flat.items()
              if not any(k == n or k.startswith(n + ".") for n in neutral) and not k.startswith("hydra.")}
    inputs["package_version"] = sim.__version__
    inputs["model_source_sha256"] = model_source()
    inputs.update(extra)
    text = json.dumps(inputs, sort_keys=True, default=str)
    return {"hash": hashlib.sha256(text.encode()).hexdigest()[:16], "inputs": inputs}


def differences(recorded: Mapping[str, Any] | None, current: Mapping[str, Any], limit: int = 3) -> str:
    """A short human list of what differs between two identity records."""
    if not recorded or "inputs" not in recorded:
        return "the folder records no identity (made by an older version or by hand)"
    old, new = recorded["inputs"], current["inputs"]
    keys = sorted(k for k in set(old) | set(new) if old.get(k, "<unset>") != new.get(k, "<unset>"))
    if not keys:
        return "same inputs, different identity hash"
    def short(value: Any) -> str:
        text = repr(value)
        return text if len(text) <= 24 else text[:20] + "...'"

    def one(k: str) -> str:
        before, after = old.get(k, "<unset>"), new.get(k, "<unset>")
        if k == "model_source_sha256":
            return f"the model's code: sim/model and sim/engine SHA-256 {str(before)[:12]} -> {str(after)[:12]}"
        return f"{k}: {short(before)} -> {short(after)}"

    shown = [one(k) for k in keys[:limit]]
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return "; ".join(shown) + more


def read_identity(manifest_path: str | os.PathLike) -> dict[str, Any] | None:
    """The identity recorded in a manifest, or None if there is none (or it cannot be read)."""
    try:
        data = json.loads(Path(manifest_path).read_text())
    except (OSError, ValueError):
        return None
    identity = data.get("identity") if isinstance(data, dict) else None
    return identity if isinstance(identity, dict) else None


def same(recorded: Mapping[str, Any] | None, current: Mapping[str, Any]) -> bool:
    return bool(recorded) and recorded.get("hash") == current["hash"]
