"""Bad input at every entry point: one readable line naming the key, the value and what is allowed; exit
code != 0; no traceback; nothing complete-looking left behind.

Each command case runs as a real process (a fork of the test process, see ``conftest.run_entry``) in a
fresh folder; the Python API cases call the functions directly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_entry

from sim import Params, simulate, simulate_to_parquet
from sim.analysis.sensitivity import morris, sobol, study_bounds

#: Files whose presence means "finished": none may appear after a refused command.
FINISHED = ("manifest.json", "merged.parquet", "merged_summary.csv", "report.pdf", "report.html", "_SUCCESS")


def _rows(folder: Path, name: str, text: str | bytes) -> str:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


def _truncated_parquet(folder: Path) -> str:
    path = folder / "rows.parquet"
    pd.DataFrame({"initial_trust": [0.2, 0.4] * 50, "horizon": 6}).to_parquet(path)
    path.write_bytes(path.read_bytes()[:200])
    return str(path)


def _file_in_the_way(folder: Path) -> str:
    (folder / "out").mkdir(exist_ok=True)
    (folder / "out" / "runs").write_text("not a folder")
    return f"results_root={folder / 'out'}"


LONG_NAME = "n" * 300

# (id, argv builder (folder -> argv), fragments the one-line message must contain)
RUN_CASES = [
    ("constants-unknown", lambda d: ["params.constants={efort_slope: 5.0}"],
     ["params.constants", "unknown constant 'efort_slope'", "did you mean effort_slope"]),
    ("constants-range", lambda d: ["params.constants={effort_slope: 50}"],
     ["params.constants['effort_slope']=50", "out of range", "[2, 8]"]),
    ("name-too-long", lambda d: [f"name={LONG_NAME}"], ["name=nnnnnnnnnnnnnnnnnnnn...", "300 bytes", "at most 100"]),
    ("name-latest", lambda d: ["name=latest"], ["name='latest'", "reserved", "another name"]),
    ("name-sensitivity", lambda d: ["name=sensitivity"], ["name='sensitivity'", "reserved", "studies"]),
    ("results-path-is-a-file", lambda d: [_file_in_the_way(d)], ["name:", "runs", "is not a folder"]),
    ("results-root-is-a-file", lambda d: [f"results_root={_rows(d, 'f', 'x')}"], ["results_root=", "cannot write"]),
    ("launcher-unknown", lambda d: ["-m", "hydra/launcher=jobllib", "seeds=2"],
     ["hydra/launcher=jobllib", "no such launcher", "joblib", "submitit_local"]),
    ("rows-repeated-column", lambda d: ["experiment=rows", "experiment.rows_file=" + _rows(
        d, "two.csv", "initial_trust,horizon,initial_trust\n0.2,6,0.3\n")],
     ["two.csv", "'initial_trust' appears 2 times"]),
    ("unknown-param", lambda d: ["params.trust=0.3"], ["params.trust", "no such setting", "initial_trust"]),
    ("int-not-a-number", lambda d: ["params.n_providers=abc"], ["params.n_providers=abc", "Integer"]),
    ("above-range", lambda d: ["params.initial_trust=1.5"], ["params.initial_trust=1.5", "[0, 1]"]),
    ("below-range", lambda d: ["params.initial_trust=-0.1"], ["params.initial_trust=-0.1", "[0, 1]"]),
    ("nan", lambda d: ["params.initial_trust=nan"], ["params.initial_trust=nan", "NaN", "[0, 1]"]),
    ("infinite", lambda d: ["params.initial_trust=inf"], ["params.initial_trust=inf", "[0, 1]"]),
    ("int-too-small", lambda d: ["params.n_providers=0"], ["params.n_providers=0", "must be"]),
    ("int-too-large", lambda d: ["params.n_providers=1000000"], ["params.n_providers=1000000", "must be"]),
    ("horizon-zero", lambda d: ["params.horizon=0"], ["params.horizon=0", "must be"]),
    ("choice", lambda d: ["params.commissioning=hybrid"], ["params.commissioning='hybrid'", "'alliance'"]),
    ("disabled-unknown", lambda d: ["params.disabled=[IPT9]"], ["IPT9", "allowed", "IPT1"]),
    ("disabled-not-list", lambda d: ["params.disabled=IPT6"], ["params.disabled=IPT6", "list"]),
    ("new-key", lambda d: ["+params.new_key=5"], ["params.new_key=5", "allowed names"]),
    ("scenario", lambda d: ["scenario=nope"], ["scenario=nope", "austerity"]),
    ("experiment", lambda d: ["experiment=nope"], ["experiment=nope", "paired", "rows"]),
    ("seeds-zero", lambda d: ["seeds=0"], ["seeds=0", "[1, 10,000,000]"]),
    ("seeds-negative", lambda d: ["seeds=-3"], ["seeds=-3", "[1, "]),
    ("seeds-text", lambda d: ["seeds=abc"], ["seeds=abc", "Integer"]),
    ("seeds-huge", lambda d: ["seeds=100000000"], ["seeds=100000000", "10,000,000"]),
    ("seeds-memory", lambda d: ["seeds=5000000"], ["seeds=5000000", "too large", "memory"]),
    ("steps-zero", lambda d: ["steps=0"], ["steps=0", "[1, 100,000]"]),
    ("steps-huge", lambda d: ["steps=100000000"], ["steps=100000000", "100,000"]),
    ("steps-memory", lambda d: ["steps=99999", "seeds=100000"], ["too large", "memory"]),
    ("steps-float", lambda d: ["steps=1.5"], ["steps=1.5", "Integer"]),
    ("first-seed", lambda d: ["first_seed=-1"], ["first_seed=-1", "[0, 2**63"]),
    ("workers-zero", lambda d: ["workers=0"], ["workers=0", "[1, 1024]"]),
    ("workers-text", lambda d: ["workers=two"], ["workers=two", "Integer"]),
    ("kind", lambda d: ["experiment.kind=bogus"], ["experiment.kind='bogus'", "'paired' or 'rows'"]),
    ("keep", lambda d: ["experiment.keep=some"], ["experiment.keep='some'", "'all' or 'last'"]),
    ("name-escapes", lambda d: ["name=../../x"], ["name='../../x'", "plain folder name"]),
    ("name-empty", lambda d: ["name=''"], ["name=''", "plain folder name"]),
    ("name-hidden", lambda d: ["name=.x"], ["name='.x'", "plain folder name"]),
    ("results-root", lambda d: ["results_root=/proc/forbidden"], ["results_root", "/proc/forbidden", "cannot write"]),
    ("list-without-m", lambda d: ["seeds=1,2"], ["seeds=1,2", "-m"]),
    ("no-equals", lambda d: ["params.initial_trust"], ["'params.initial_trust'", "key=value"]),
    ("no-key", lambda d: ["=5"], ["no key", "key=value"]),
    ("append-existing", lambda d: ["+seeds=3"], ["+seeds", "without the '+'"]),
    ("sweep-one-bad", lambda d: ["-m", "params.initial_trust=0.2,1.5,0.4", "seeds=2"],
     ["1 of 3 jobs", "none was started", "params.initial_trust=1.5", "[0, 1]"]),
    ("sweep-two-bad", lambda d: ["-m", "seeds=2,0,-1"], ["2 of 3 jobs", "seeds=0", "seeds=-1"]),
    ("rows-missing-file-key", lambda d: ["experiment=rows", "experiment.rows_file=null"],
     ["experiment.rows_file=None", "required"]),
    ("rows-no-such-file", lambda d: ["experiment=rows", "experiment.rows_file=nope.csv"],
     ["experiment.rows_file='nope.csv'", "no such file"]),
    ("rows-folder", lambda d: ["experiment=rows", f"experiment.rows_file={d}"],
     ["experiment.rows_file=", "no such file"]),
    ("rows-empty-file", lambda d: ["experiment=rows", f"experiment.rows_file={_rows(d, 'e.csv', '')}"],
     ["experiment.rows_file=", "e.csv", "empty"]),
    ("rows-header-only", lambda d: ["experiment=rows", f"experiment.rows_file={_rows(d, 'h.csv', 'initial_trust\n')}"],
     ["h.csv", "no rows"]),
    ("rows-unknown-column", lambda d: ["experiment=rows", f"experiment.rows_file={_rows(d, 'u.csv', 'trust\n0.5\n')}"],
     ["u.csv", "unknown column 'trust'", "allowed"]),
    ("rows-out-of-range", lambda d: ["experiment=rows",
                                     f"experiment.rows_file={_rows(d, 'r.csv', 'initial_trust\n0.5\n1.7\n')}"],
     ["r.csv", "'initial_trust'", "row 1", "1.7", "[0, 1]"]),
    ("rows-nan", lambda d: ["experiment=rows",
                            f"experiment.rows_file={_rows(d, 'n.csv', 'initial_trust,austerity\n0.5,0.2\n,0.3\n')}"],
     ["n.csv", "initial_trust", "NaN"]),
    ("rows-text", lambda d: ["experiment=rows", f"experiment.rows_file={_rows(d, 't.csv', 'n_providers\nten\n')}"],
     ["t.csv", "'n_providers'", "ten"]),
    ("rows-negative-seed", lambda d: ["experiment=rows",
                                      f"experiment.rows_file={_rows(d, 's.csv', 'initial_trust,seed\n0.5,-4\n')}"],
     ["s.csv", "seeds[0]=-4", "non-negative"]),
    ("rows-choice", lambda d: ["experiment=rows",
                               f"experiment.rows_file={_rows(d, 'c.csv', 'commissioning\nhybrid\n')}"],
     ["c.csv", "'commissioning'", "hybrid", "alliance"]),
    ("rows-duplicate-ids", lambda d: ["experiment=rows",
                                      f"experiment.rows_file={_rows(d, 'd.csv', 'row,initial_trust\n1,0.5\n1,0.6\n')}"],
     ["d.csv", "distinct row ids"]),
    ("rows-binary", lambda d: ["experiment=rows", f"experiment.rows_file={_rows(d, 'b.csv', bytes(range(256)) * 4)}"],
     ["b.csv", "cannot be read"]),
    ("rows-truncated-parquet", lambda d: ["experiment=rows", f"experiment.rows_file={_truncated_parquet(d)}"],
     ["rows.parquet", "cannot be read as Parquet"]),
    ("rows-n-chunks", lambda d: ["experiment=rows", "experiment.rows_file=x.csv", "experiment.n_chunks=0"],
     ["experiment.n_chunks=0", ">= 1"]),
    ("rows-chunk", lambda d: ["experiment=rows", "experiment.rows_file=x.csv", "experiment.n_chunks=2",
                              "experiment.chunk=3"], ["experiment.chunk=3", "[0, 1]"]),
    ("rows-sweep-one-bad-chunk", lambda d: ["-m", "experiment=rows",
                                            f"experiment.rows_file={_rows(d, 'ok.csv', 'initial_trust\n0.5\n')}",
                                            "experiment.n_chunks=2", "experiment.chunk=0,1,2"],
     ["1 of 3 jobs", "experiment.chunk=2", "[0, 1]"]),
]

STUDY_CASES = [
    ("name-latest", ["name=latest"], ["name='latest'", "reserved"]),
    ("name-too-long", [f"name={LONG_NAME}"], ["300 bytes", "at most 100"]),
    ("sobol-n", ["study.sobol_n=1000"], ["study.sobol_n=1000", "power of 2"]),
    ("replicates", ["study.replicates=0"], ["study.replicates=0", ">= 1"]),
    ("outcome", ["study.outcomes=[nonsense]"], ["'nonsense'", "fragmentation_reduction"]),
    ("no-outcomes", ["study.outcomes=[]"], ["study.outcomes", "at least one"]),
    ("parameter", ["study.parameters=[trust]"], ["'trust'", "not a numeric parameter"]),
    ("narrow-widen", ["study.narrow.initial_trust=[0.5,2.0]"], ["initial_trust", "2", "widen"]),
    ("narrow-order", ["study.narrow.initial_trust=[0.6,0.2]"], ["initial_trust", "low < high"]),
    ("narrow-unknown", ["study.narrow.bogus=[0,1]"], ["study.narrow.bogus", "no such setting", "initial_trust"]),
    ("narrow-not-studied", ["study.parameters=[austerity,initial_trust]", "study.narrow.monitoring=[0.1,0.2]"],
     ["monitoring", "not a parameter of this study"]),
    ("seed", ["study.seed=-1"], ["study.seed=-1", "[0, 2**62]"]),
    ("launcher", ["study.launcher=bogus"], ["study.launcher='bogus'", "submitit_local"]),
    ("chunks", ["study.chunks=0"], ["study.chunks=0", ">= 1"]),
    ("levels", ["study.morris_levels=3"], ["study.morris_levels=3", "even"]),
    ("threshold", ["study.prim_threshold=nan"], ["study.prim_threshold=nan", "finite"]),
    ("role", ["study.roles=[contexts]"], ["study.roles=['contexts']", "context, lever, mechanism, scale"]),
    ("ensemble", ["study.ensemble=nowhere.csv"], ["ensemble='nowhere.csv'", "shipped, none or the path"]),
    ("resilience", ["study.resilience=[earthquake]"], ["'earthquake' is not a scenario preset", "budget_shock"]),
    ("margin", ["study.failure_margin=-1"], ["study.failure_margin=-1", ">= 0"]),
    ("memory", ["study.sobol_n=4194304"], ["study.sobol_n=4194304", "too large", "memory"]),
    ("workers", ["workers=0"], ["workers=0", "[1, 1024]"]),
    ("name", ["name=../x"], ["name='../x'", "plain folder name"]),
    ("params", ["params.initial_trust=2"], ["params.initial_trust=2", "[0, 1]"]),
    ("sweep-one-bad", ["-m", "study.seed=1,-1"], ["1 of 2 jobs", "study.seed=-1"]),
]


def _finished_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.name in FINISHED or p.name.startswith(("chunk-", "part-"))}


def _assert_refused(proc, fragments: list[str], root: Path, before: set[Path]) -> None:
    message = proc.stderr + proc.stdout
    assert proc.returncode != 0, message
    assert "Traceback" not in message, message
    errors = [line for line in message.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, message
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    assert _finished_files(root) <= before, f"left behind: {_finished_files(root) - before}"


@pytest.mark.parametrize(("case", "argv", "fragments"), RUN_CASES, ids=[c[0] for c in RUN_CASES])
def test_run_refuses_bad_input(tmp_path, case, argv, fragments):
    args = argv(tmp_path)
    if not any(a.startswith("results_root=") for a in args):
        args = [*args, f"results_root={tmp_path / 'out'}"]
    proc = run_entry("run", args, tmp_path, env={"TMPDIR": str(tmp_path)})
    _assert_refused(proc, fragments, tmp_path, set())
    assert not (tmp_path / "out" / "runs").is_dir() or not any((tmp_path / "out" / "runs").iterdir())


@pytest.mark.parametrize(("case", "argv", "fragments"), STUDY_CASES, ids=[c[0] for c in STUDY_CASES])
def test_sensitivity_refuses_bad_input(tmp_path, case, argv, fragments):
    args = ["study=smoke", "report=false", f"results_root={tmp_path}", "name=s", "workers=1", *argv]
    proc = run_entry("sensitivity", args, tmp_path, env={"TMPDIR": str(tmp_path)})
    _assert_refused(proc, fragments, tmp_path, set())
    assert not (tmp_path / "sensitivity" / "s").exists()


# ------------------------------------------------------------------------------------------------
# collect.py and report.py: real folders, damaged in one way each
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def row_sweep(tmp_path_factory) -> Path:
    """A finished row sweep in two chunks and a finished paired run (a few seconds)."""
    root = tmp_path_factory.mktemp("sweeps")
    rows = root / "rows.csv"
    pd.DataFrame({"initial_trust": [0.1, 0.5, 0.9, 0.3], "horizon": 6}).to_csv(rows, index=False)
    for chunk in (0, 1):
        proc = run_entry("run", ["experiment=rows", f"experiment.rows_file={rows}", "experiment.n_chunks=2",
                                 f"experiment.chunk={chunk}", f"results_root={root}", "name=rows"], root)
        assert proc.returncode == 0, proc.stderr
    proc = run_entry("run", ["seeds=2", "params.horizon=6", f"results_root={root}", "name=paired"], root)
    assert proc.returncode == 0, proc.stderr
    return root


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _mixed_kinds(root: Path, d: Path) -> Path:
    folder = _copy(root / "rows", d / "mixed")
    run = next(p for p in (root / "paired").iterdir() if p.is_dir())
    shutil.copytree(run, folder / run.name)
    return folder


def _mixed_chunking(root: Path, d: Path) -> Path:
    folder = _copy(root / "rows", d / "chunking")
    shutil.copy(folder / "chunk-00000-of-00002.parquet", folder / "chunk-00000-of-00003.parquet")
    shutil.copy(folder / "chunk-00000-of-00002.manifest.json", folder / "chunk-00000-of-00003.manifest.json")
    return folder


def _missing_chunk(root: Path, d: Path) -> Path:
    folder = _copy(root / "rows", d / "missing")
    (folder / "chunk-00001-of-00002.parquet").unlink()
    return folder


def _other_sweep(root: Path, d: Path) -> Path:
    folder = _copy(root / "rows", d / "other")
    record = json.loads((folder / "chunk-00001-of-00002.manifest.json").read_text())
    record["identity"]["hash"] = "0" * 16
    (folder / "chunk-00001-of-00002.manifest.json").write_text(json.dumps(record))
    return folder


def _corrupt_chunk(root: Path, d: Path) -> Path:
    folder = _copy(root / "rows", d / "corrupt")
    path = folder / "chunk-00001-of-00002.parquet"
    path.write_bytes(path.read_bytes()[:100])
    return folder


def _empty(root: Path, d: Path) -> Path:
    (d / "empty").mkdir()
    return d / "empty"


def _damaged_run(root: Path, d: Path, file: str, damage) -> Path:
    folder = _copy(root / "paired", d / file.split(".")[0])
    damage(next(p for p in folder.iterdir() if p.is_dir()) / file)
    return folder


COLLECT_CASES = [
    ("truncated-outcomes", lambda r, d: _damaged_run(r, d, "outcomes.parquet", lambda p: p.write_bytes(
        p.read_bytes()[:200])), ["outcomes.parquet (200 bytes", "damaged", "python experiments/run.py", "force=true"]),
    ("garbled-summary", lambda r, d: _damaged_run(r, d, "summary.csv", lambda p: p.write_bytes(
        p.read_bytes().replace(b"fragmentation", b"fragmentati0n"))), ["summary.csv", "content differs", "force=true"]),
    ("no-folder", lambda r, d: d / "nope", ["nope", "no such results folder"]),
    ("empty", _empty, ["empty", "no complete runs"]),
    ("mixed-kinds", _mixed_kinds, ["mixes row-sweep chunks", "paired runs", "params.horizon=6,seeds=2"]),
    ("mixed-chunking", _mixed_chunking, ["mixes chunkings", "2, 3"]),
    ("missing-chunk", _missing_chunk, ["chunks 1 of 2", "missing", "--partial"]),
    ("other-sweep", _other_sweep, ["different row sweeps", "0000000000000000"]),
    ("corrupt-chunk", _corrupt_chunk, ["chunk-00001-of-00002.parquet (100 bytes", "damaged",
                                       "python experiments/run.py", "experiment.chunk=1 force=true"]),
]


@pytest.mark.parametrize(("case", "make", "fragments"), COLLECT_CASES, ids=[c[0] for c in COLLECT_CASES])
def test_collect_refuses_bad_folders(row_sweep, tmp_path, case, make, fragments):
    folder = make(row_sweep, tmp_path)
    before = _finished_files(tmp_path)
    proc = run_entry("collect", [str(folder)], tmp_path)
    _assert_refused(proc, fragments, tmp_path, before)


def _damaged_study(study: Path, d: Path, name: str, damage) -> Path:
    folder = d / "study"
    shutil.copytree(study, folder)
    for report in ("report.html", "report.pdf"):
        (folder / report).unlink()
    if damage is not None:
        damage(folder / name)
    return folder


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00\x01not,a\n\xff\xfe table\x00" * 3)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


REPORT_CASES = [
    ("no-folder", None, None, ["nope", "not a folder"]),
    ("not-a-study", "manifest.json", lambda p: p.unlink(), ["not a complete sensitivity study", "manifest.json"]),
    ("corrupt-csv", "sobol.csv", _garbage, ["sobol.csv", "damaged"]),
    ("truncated-parquet", "timeseries.parquet", _truncate, ["timeseries.parquet", "truncated", "damaged",
                                                            "sensitivity.py", "force=true"]),
    ("corrupt-config", "config.yaml", lambda p: p.write_text("study: [unclosed\n  - : :"), ["config.yaml", "damaged"]),
    ("corrupt-manifest", "manifest.json", lambda p: p.write_text("{not json"), ["manifest.json", "damaged"]),
    ("empty-csv", "ablation.csv", lambda p: p.write_text(""), ["ablation.csv"]),
    ("columns-missing", "convergence.csv", lambda p: p.write_text("a,b\n1,2\n"), ["convergence.csv", "damaged",
                                                                                  "force=true"]),
    ("same-size-edit", "sobol.csv", lambda p: p.write_bytes(p.read_bytes().replace(b"0", b"1")),
     ["sobol.csv", "content differs from the SHA-256", "force=true"]),
]


@pytest.mark.parametrize(("case", "name", "damage", "fragments"), REPORT_CASES, ids=[c[0] for c in REPORT_CASES])
def test_report_refuses_damaged_studies(study, tmp_path, case, name, damage, fragments):
    folder = tmp_path / "nope" if name is None else _damaged_study(study, tmp_path, name, damage)
    before = _finished_files(tmp_path)
    proc = run_entry("report", [str(folder)], tmp_path)
    _assert_refused(proc, fragments, tmp_path, before)
    assert not list(tmp_path.rglob(".report.*.tmp-*")), "temporary report files left behind"


# ------------------------------------------------------------------------------------------------
# The Python API
# ------------------------------------------------------------------------------------------------
def _nan(X):
    return np.full(len(X), np.nan)


def _two_outputs(X):
    return np.zeros((len(X), 2))


API_CASES = [
    ("sobol-output-count", lambda d: sobol(_two_outputs, {"a": (0, 1), "b": (0, 1)}, 16, seed=1), ValueError,
     ["func returned 128 outputs", "64 sample points", "one number per row"]),
    ("sobol-seed-none", lambda d: sobol(lambda X: X[:, 0], {"a": (0, 1), "b": (0, 1)}, 16, seed=None), TypeError,
     ["seed=None", "integer >= 0"]),
    ("morris-seed-none", lambda d: morris(lambda X: X[:, 0], {"a": (0, 1), "b": (0, 1)}, 4, seed=None), TypeError,
     ["seed=None", "integer >= 0"]),
    ("simulate-empty", lambda d: simulate([], []), ValueError, ["params", "no scenarios"]),
    ("simulate-none", lambda d: simulate(None, [0]), TypeError, ["params=None", "sequence of sim.Params"]),
    ("simulate-single", lambda d: simulate(Params(), [0]), TypeError, ["single Params"]),
    ("simulate-string", lambda d: simulate("default", [0]), TypeError, ["params='default'"]),
    ("simulate-seeds-none", lambda d: simulate([Params()], None), TypeError, ["seeds=None"]),
    ("simulate-seed-negative", lambda d: simulate([Params()], [-1]), ValueError, ["seeds[0]=-1", "non-negative"]),
    ("simulate-seed-count", lambda d: simulate([Params()], [0, 1]), ValueError, ["2 seeds for 1 scenarios"]),
    ("simulate-steps", lambda d: simulate([Params()], [0], steps=0), ValueError, ["steps=0", ">= 1"]),
    ("simulate-steps-huge", lambda d: simulate([Params()], [0], steps=10**9), ValueError,
     ["steps=1000000000", "1,000,000"]),
    ("simulate-memory", lambda d: simulate([Params()] * 200_000, np.arange(200_000), steps=100_000), ValueError,
     ["too large", "memory", "simulate_to_parquet"]),
    ("simulate-workers", lambda d: simulate([Params()], [0], workers=0), ValueError, ["workers=0", ">= 1"]),
    ("simulate-keep", lambda d: simulate([Params()], [0], keep="first"), ValueError, ["keep='first'", "'last'"]),
    ("params-overflow", lambda d: Params(initial_trust=10**400), ValueError,
     ["Params.initial_trust=", "out of range", "[0, 1]"]),
    ("params-type", lambda d: Params(initial_trust="high"), TypeError, ["Params.initial_trust='high'", "[0, 1]"]),
    ("params-unknown", lambda d: Params(trust=0.5), (TypeError, ValueError), ["trust"]),
    ("to-parquet-nonempty", lambda d: (d.joinpath("x.txt").write_text("old"),
                                       simulate_to_parquet([Params(horizon=3)], [0], d)),
     ValueError, ["directory=", "not empty"]),
    ("sobol-nan", lambda d: sobol(_nan, {"a": (0, 1), "b": (0, 1)}, 16, seed=1), ValueError,
     ["outputs", "NaN or infinite", "none were computed"]),
    ("morris-nan", lambda d: morris(_nan, {"a": (0, 1), "b": (0, 1)}, 4, seed=1), ValueError,
     ["outputs", "NaN or infinite"]),
    ("narrow-widen", lambda d: study_bounds(["initial_trust"], {"initial_trust": [0.0, 1.5]}), ValueError,
     ["initial_trust", "widen"]),
    ("simulate-repeated-column", lambda d: simulate(pd.DataFrame([[0.2, 0.3]], columns=["initial_trust"] * 2), [0]),
     ValueError, ["column 'initial_trust' appears 2 times", "once"]),
    ("to-parquet-symlink", lambda d: (d.joinpath("real").mkdir(), d.joinpath("link").symlink_to(d / "real"),
                                      simulate_to_parquet([Params(horizon=3)], [0], d / "link")),
     ValueError, ["directory=", "symbolic link"]),
    ("constants-unknown", lambda d: Params(constants={"efort_slope": 3.0}), ValueError,
     ["unknown constant 'efort_slope'", "did you mean effort_slope"]),
    ("constants-range", lambda d: Params(constants={"gate_slope": 0.5}), ValueError,
     ["Params.constants['gate_slope']=0.5", "out of range", "[6, 24]"]),
]


@pytest.mark.parametrize(("case", "call", "kind", "fragments"), API_CASES, ids=[c[0] for c in API_CASES])
def test_api_refuses_bad_input(tmp_path, case, call, kind, fragments):
    with pytest.raises(kind) as info:
        call(tmp_path)
    message = str(info.value)
    assert "\n" not in message and len(message) < 1000, message  # one line (allowed names may be long)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert not _finished_files(tmp_path)


def test_the_table_is_large_enough():
    cases = len(RUN_CASES) + len(STUDY_CASES) + len(COLLECT_CASES) + len(REPORT_CASES) + len(API_CASES)
    assert cases >= 60, cases
