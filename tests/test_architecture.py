"""The package's layers (docs/architecture.md): imports only go down, the schema loads alone, optional
features name the extra that installs them, and the configs ship inside the package."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SIM = ROOT / "sim"
#: Each subpackage's layer: a module may import from its own layer and those below, never above.
LAYERS = {"runtime": 0, "conf": 0, "params": 1, "model": 2, "engine": 2, "sweeps": 3, "analysis": 4, "report": 5,
          "app": 5}


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)


def _imports(path: Path) -> set[str]:
    """Every ``sim.*`` module a file imports, at the top or inside functions (TYPE_CHECKING blocks too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m == "sim" or m.startswith("sim.")}


def test_sim_top_level_holds_only_the_public_face_and_subpackages():
    files = {p.name for p in SIM.iterdir() if p.is_file() and p.suffix == ".py"}
    assert files <= {"__init__.py", "__main__.py"}, files
    assert {p.name for p in SIM.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(LAYERS)


def test_imports_only_go_down_the_layers():
    wrong = []
    for path in sorted(SIM.rglob("*.py")):
        layer = path.relative_to(SIM).parts[0]
        if layer not in LAYERS:
            continue  # sim/__init__.py: the public face, resolved lazily
        for module in _imports(path):
            parts = module.split(".")
            target = parts[1] if len(parts) > 1 else None
            if target in LAYERS and target != layer and (LAYERS[target] > LAYERS[layer]
                                                         or {target, layer} == {"report", "app"}):
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_schema_imports_without_mesa_xarray_or_matplotlib():
    proc = _run("import sim.params, sys\n"
                "heavy = [m for m in ('mesa', 'xarray', 'matplotlib', 'pandas', 'hydra') if m in sys.modules]\n"
                "assert not heavy, heavy\n"
                "sim.params.Params(events=('budget_cut@24=0.2',))\n"
                "assert 'mesa' not in sys.modules and 'xarray' not in sys.modules")
    assert proc.returncode == 0, proc.stderr


def test_the_public_names_resolve_on_first_use():
    import sim

    assert sim.__version__ == version("alliance-sim")
    assert set(sim.__all__) <= set(dir(sim))
    from sim import OUTCOMES, AllianceModel, Params, simulate, simulate_to_parquet, tidy  # noqa: F401

    assert AllianceModel.__module__ == "sim.model.alliance" and Params.__module__ == "sim.params"
    with pytest.raises(AttributeError):
        sim.no_such_name  # noqa: B018


@pytest.mark.parametrize(("module", "blocked", "extra"), [
    ("sim.app.teaching", "solara", "app"),
    ("sim.report.advisory", "weasyprint", "report"),
    ("sim.sweeps.slurm", "submitit", "cluster"),
])
def test_a_feature_whose_extra_is_missing_names_the_install(module, blocked, extra):
    code = f"""
import importlib, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == {blocked!r} or name.startswith({blocked!r} + "."):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Block())
try:
    importlib.import_module({module!r})
except ImportError as err:
    print(type(err).__name__, err)
"""
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("MissingExtra") and f"pip install 'alliance-sim[{extra}]'" in proc.stdout, proc.stdout


def test_a_study_without_the_discovery_extra_is_refused_before_any_work(tmp_path):
    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("ema_workbench", "sklearn"):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Block())
sys.argv = ["sensitivity.py", "study=smoke", "report=false", "results_root={tmp_path}"]
import runpy
runpy.run_path({str(ROOT / "experiments" / "sensitivity.py")!r}, run_name="__main__")
"""
    proc = _run(code)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "pip install 'alliance-sim[discovery]'" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "sensitivity").exists() or not any((tmp_path / "sensitivity").iterdir())


def test_the_configs_ship_as_package_data():
    from sim import conf

    assert (conf.directory() / "config.yaml").is_file() and "slurm_small" in conf.launcher_presets()
    from sim.app.teaching import SCENARIO_DIR

    assert SCENARIO_DIR == conf.directory() / "scenario" and (SCENARIO_DIR / "austerity.yaml").is_file()


# --- the month written once: the same phases, in the same order, in the Mesa model and the compiled run -----
def _phase_calls(function_name: str, tree: ast.AST) -> list[str]:
    """The ``ph.<phase>(...)`` calls of a function, in source order."""
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function_name)
    calls = [c for c in ast.walk(node) if isinstance(c, ast.Call)]
    calls.sort(key=lambda c: (c.lineno, c.col_offset))
    names = []
    for c in calls:
        if isinstance(c.func, ast.Attribute) and isinstance(c.func.value, ast.Name) and c.func.value.id == "ph":
            names.append(c.func.attr)
    return names


def _first_occurrences(names: list[str], keep: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(n for n in names if n in keep))


def test_the_mesa_model_and_the_compiled_run_call_the_same_phases_in_the_same_order():
    from sim import AllianceModel, Params
    from sim.model import phases

    tree = ast.parse((SIM / "engine" / "batch.py").read_text())
    compiled = _phase_calls("run_scenarios", tree)
    assert _first_occurrences(compiled, phases.MONTH) == list(phases.MONTH)

    model = AllianceModel(Params(contract_length=12, horizon=12), seed=1)
    model.run(11)
    seen: list[str] = []
    originals = {name: getattr(phases, name) for name in phases.MONTH}

    def traced(name):
        def call(*args, **kwargs):
            seen.append(name)
            return originals[name](*args, **kwargs)
        return call

    try:
        for name in phases.MONTH:
            setattr(phases, name, traced(name))
        model.step()  # month 12: everyone learns and the contract is reviewed
    finally:
        for name, function in originals.items():
            setattr(phases, name, function)
    assert _first_occurrences(seen, phases.MONTH) == list(phases.MONTH)


def test_domain_modules_hold_no_numba_machinery():
    """numba's own API (njit, intrinsics, private options) stays in sim/engine; the model's domain files use only the
    two decorators of sim.engine.compiled."""
    offenders = []
    for path in sorted((SIM / "model").rglob("*.py")):
        text = path.read_text()
        for word in ("from numba", "import numba", "_nrt", "llvmlite", "np.uint64(i", "@njit"):
            if word in text:
                offenders.append(f"{path.relative_to(ROOT)}: {word}")
    assert not offenders, offenders
