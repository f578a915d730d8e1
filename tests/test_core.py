"""The vectorised core (issue 3): exact equivalence with the Mesa model, batch invariance, bad input,
kept steps, Parquet output and a smoke run of the benchmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_entry

from sim import AllianceModel, Params, simulate
from sim.model.core import simulate_to_parquet, tidy
from sim.model.outcomes import OUTCOMES
from sim.params import RULE_IDS, THEORY_IDS
from sim.params.events import EVENT_KINDS

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-9
#: Ablations covered in turn: none, each rule alone, each middle-range theory.
ABLATIONS: list[tuple[str, ...]] = [(), *((r,) for r in RULE_IDS), *((t,) for t in THEORY_IDS)]


def random_params(rng: np.random.Generator, k: int, *, max_providers: int = 40, max_localities: int = 20,
                  horizon: int | None = None) -> Params:
    """A parameter set drawn from the schema's ranges; the commissioning mode alternates and the
    ablation cycles through ABLATIONS, so any 22 consecutive draws cover every mode-ablation pair."""
    values: dict = {}
    for spec in Params.schema():
        if spec.name == "commissioning":
            values[spec.name] = spec.choices[k % 2]
        elif spec.name == "disabled":
            values[spec.name] = ABLATIONS[(k // 2) % len(ABLATIONS)]
        elif spec.name in ("events", "constants"):
            continue
        elif spec.type is int:
            high = {"n_providers": max_providers, "n_localities": max_localities}.get(spec.name, spec.high)
            values[spec.name] = int(rng.integers(spec.low, min(high, spec.high) + 1))
        else:
            values[spec.name] = float(rng.uniform(spec.low, spec.high))
    if horizon is not None:
        values["horizon"] = horizon
    values["events"] = random_events(rng, min(values["horizon"], 24)) if k % 3 == 0 else ()
    values["contract_length"] = int(rng.choice([12, 18, values["contract_length"]]))  # reviews within the test
    return Params(**values)


def random_events(rng: np.random.Generator, last_month: int) -> tuple[str, ...]:
    """One to four events of random kinds in months 1..last_month."""
    out = []
    for _ in range(int(rng.integers(1, 5))):
        kind = str(rng.choice(list(EVENT_KINDS)))
        month = int(rng.integers(1, last_month + 1))
        bounds = EVENT_KINDS[kind]
        out.append(f"{kind}@{month}" if bounds is None else f"{kind}@{month}={rng.uniform(*bounds):.3f}")
    return tuple(out)


def mesa_table(params: Params, seed: int, steps: int) -> pd.DataFrame:
    model = AllianceModel(params=params, seed=seed)
    model.run(steps)
    return model.datacollector.get_model_vars_dataframe()


def assert_equivalent(params: list[Params], seeds: list[int], steps: int | None = None) -> None:
    ds = simulate(params, seeds, steps)
    for k, (p, seed) in enumerate(zip(params, seeds, strict=True)):
        months = p.horizon if steps is None else steps
        reference = mesa_table(p, seed, months)
        assert len(reference) == months + 1
        for name in OUTCOMES:
            core = ds[name].values[k, : months + 1]
            diff = np.abs(core - reference[name].to_numpy())
            assert np.all(diff <= TOLERANCE), (
                f"{name} differs by {np.nanmax(diff):.3g} at step {int(np.nanargmax(diff))} "
                f"for {p} seed {seed}")


# ------------------------------------------------------------------------------------------------
# Equivalence with the Mesa model
# ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_equivalence_on_random_parameter_sets():
    """66 random parameter sets (3 x every commissioning mode x ablation), 24 months each, one batch."""
    rng = np.random.default_rng(20261126)
    params = [random_params(rng, k) for k in range(3 * 2 * len(ABLATIONS))]
    seeds = [int(s) for s in rng.integers(0, 2**63, size=len(params))]
    assert {p.commissioning for p in params} == {"alliance", "traditional"}
    assert len({p.n_providers for p in params}) > 10 and len({p.n_localities for p in params}) > 8
    assert_equivalent(params, seeds, steps=24)


def test_equivalence_full_horizon_and_extreme_sizes():
    rng = np.random.default_rng(7)
    params = [
        Params(),  # the default scenario over its 60-month horizon
        Params(commissioning="traditional"),
        random_params(rng, 1, horizon=120),
        random_params(rng, 4, horizon=90),
        Params(n_providers=2, n_localities=1, n_domains=2, horizon=36, disabled=("A", "C")),
        Params(n_providers=100, n_localities=50, n_domains=8, horizon=6, negativity_bias=5.0,
               trust_learning_rate=0.3, effort_noise=2.0, events=("provider_exit@2", "budget_cut@3=0.5")),
    ]
    assert_equivalent(params, [0, 1, 2**63 - 1, 12345, 99, 3])


def random_constants(rng: np.random.Generator, n: int) -> dict[str, float]:
    """``n`` model constants drawn anywhere in their plausible ranges (a valid set: the joint constraints hold)."""
    registry = [c for c in Params.constants_schema() if not c.name.startswith("experience_weight")]
    chosen = rng.choice(len(registry), size=n, replace=False)
    return {registry[i].name: float(rng.uniform(registry[i].low, registry[i].high)) for i in chosen}


def test_equivalence_with_any_constants():
    """Mesa and core agree for constant sets drawn from the registry's ranges, every constant at once included."""
    rng = np.random.default_rng(41)
    everything = {c.name: float(rng.uniform(c.low, c.high)) for c in Params.constants_schema()
                  if not c.name.startswith("experience_weight")}
    params = [random_params(rng, k, max_providers=15, max_localities=6).replace(constants=random_constants(rng, 8))
              for k in range(10)]
    params += [Params(constants=everything), Params(commissioning="traditional", constants=everything)]
    assert_equivalent(params, list(range(len(params))), steps=30)


def test_a_batch_mixing_constant_sets_equals_each_set_run_alone():
    """Constants reach the compiled run as data (a row per scenario): one batch mixes sets with no recompiling,
    and each scenario's numbers are those it has alone, bit for bit."""
    from sim.engine import batch as engine

    rng = np.random.default_rng(5)
    sets = [{}, random_constants(rng, 5), random_constants(rng, 30), {"gate_slope": 20.0, "effort_slope": 3.0}]
    params = [Params(commissioning=mode, constants=c) for c in sets for mode in ("alliance", "traditional")]
    signatures = len(engine.run_scenarios.signatures)
    mixed = simulate(params, list(range(len(params))), steps=24)
    assert len(engine.run_scenarios.signatures) <= max(signatures, 1)  # no new compilation for new constants
    for k, p in enumerate(params):
        assert_identical(mixed, simulate([p], [k], steps=24), rows=[k])
    frag = mixed["fragmentation"].values[:, -1]
    assert len(set(np.round(frag[::2], 12))) == len(sets)  # the constants do change the alliance's run


def test_constants_in_a_table_round_trip_through_their_text_form():
    p = Params(constants={"voice": 0.6, "effort_slope": 5.0})
    ds = simulate([p], [1], steps=3)
    assert ds["constants"].values[0] == "effort_slope=5.0,voice=0.6"
    frame = pd.DataFrame({"constants": [ds["constants"].values[0]]})
    again = simulate(frame, [1], steps=3)
    assert_identical(ds, again)
    with pytest.raises(ValueError, match="params column 'constants', row 0: .*unknown constant 'nope'"):
        simulate(pd.DataFrame({"constants": ["nope=1"]}), [1], steps=3)



def test_a_table_checks_each_distinct_constant_set_once_but_every_row_that_differs(monkeypatch):
    """Rows sharing a constant set (an ensemble member's over a study's points) are checked once, so a table of
    a million rows is checked in seconds; a row equal to a checked one but of other types is still checked, and
    refused if it is wrong; missing values (NaN from a CSV) share one check."""
    import sim.model.core as core

    calls = []
    original = core.ROW_CHECKS["constants"]
    monkeypatch.setitem(core.ROW_CHECKS, "constants", lambda v, k: calls.append(k) or original(v, k))
    good = (("gate_slope", 10.0),)
    table = core.scenario_table(pd.DataFrame({"constants": [good] * 3 + [(("gate_slope", 10.0),)] * 2
                                              + ["gate_slope=12.0"] * 2}), range(7))
    assert list(table["constants"]) == [good] * 5 + [(("gate_slope", 12.0),)] * 2
    assert len(calls) == 2  # one set as tuples (two equal objects), one as text
    calls.clear()
    core.scenario_table(pd.DataFrame({"constants": [float("nan")] * 500}), range(500))
    assert len(calls) == 1
    with pytest.raises(ValueError, match=r"params column 'constants', row 2: .*voice.*=True: wrong type"):
        core.scenario_table(pd.DataFrame({"constants": [(("voice", 1.0),)] * 2 + [(("voice", True),)]}), range(3))
    with pytest.raises(ValueError, match=r"params column 'constants', row 1: .*voice.*=True: wrong type"):
        core.scenario_table(pd.DataFrame({"constants": [frozenset({("voice", 1.0)}), frozenset({("voice", True)})]}),
                            range(2))
    signs = core.scenario_table(pd.DataFrame({"constants": [(("evaluation_support", 0.0),),
                                                            (("evaluation_support", -0.0),)]}), range(2))
    assert [np.signbit(c[0][1]) for c in signs["constants"]] == [False, True]
    with pytest.raises(ValueError, match=r"params column 'disabled', row 1: "):
        core.scenario_table(pd.DataFrame({"disabled": [("IPT1",), ("IPT9",)]}), range(2))


def test_a_callers_progress_bar_advances_over_several_calls():
    import io

    from tqdm import tqdm

    with tqdm(file=io.StringIO()) as bar:  # no total: a bar's truth value is undefined, so it is not asked
        simulate([Params()] * 3, [0, 1, 2], steps=2, progress=bar)
        simulate([Params()] * 2, [3, 4], steps=2, progress=bar)
        assert bar.n == 5


# ------------------------------------------------------------------------------------------------
# Batch invariance: bit-identical alone, in a batch of 1,000, with any chunk size, with 2 workers
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def batch() -> tuple[pd.DataFrame, np.ndarray]:
    """1,000 scenarios of mixed shapes (some shapes shared by many scenarios, so chunks split groups)."""
    rng = np.random.default_rng(3)
    rows = [random_params(rng, k, max_providers=12, max_localities=6).to_dict() for k in range(1000)]
    frame = pd.DataFrame(rows)
    frame["n_providers"] = rng.choice([2, 5, 10, 12], size=len(frame))
    frame["n_localities"] = rng.choice([1, 3, 5, 9], size=len(frame))
    frame["n_domains"] = rng.choice([2, 4], size=len(frame))
    return frame, rng.integers(0, 2**63, size=len(frame))


def assert_identical(a, b, rows=slice(None)) -> None:
    for name in OUTCOMES:
        assert np.array_equal(a[name].values[rows], b[name].values, equal_nan=True), name


@pytest.fixture(scope="module")
def whole(batch) -> object:
    """The 1,000 scenarios in one call."""
    frame, seeds = batch
    return simulate(frame, seeds, steps=24)


@pytest.mark.slow
# Each case is its own test so that both pytest-xdist workers share them. chunk_size=1 runs every scenario
# alone (~45 ms each): over the four quarters of the batch it runs exactly what chunk_size=1 over the whole
# batch runs, compared with the same rows of the whole batch.
@pytest.mark.parametrize("case", ["alone, a slice, chunk_size=333, 2 workers", "chunk_size=7",
                                  *(f"chunk_size=1, rows {k}-{k + 249}" for k in range(0, 1000, 250))])
def test_batch_invariance(batch, whole, case):
    frame, seeds = batch
    if case.startswith("alone"):
        for k in (0, 1, 137, 500, 998, 999):
            assert_identical(whole, simulate(frame.iloc[[k]], seeds[[k]], steps=24), rows=[k])
        assert_identical(whole, simulate(frame.iloc[10:30], seeds[10:30], steps=24), rows=slice(10, 30))
        assert_identical(whole, simulate(frame, seeds, steps=24, chunk_size=333))
        assert_identical(whole, simulate(frame, seeds, steps=24, workers=2, chunk_size=64))
    elif case == "chunk_size=7":
        assert_identical(whole, simulate(frame, seeds, steps=24, chunk_size=7))
    else:
        start = int(case.split("rows ")[1].split("-")[0])
        rows = slice(start, start + 250)
        assert_identical(whole, simulate(frame.iloc[rows], seeds[rows], steps=24, chunk_size=1), rows=rows)


def test_batch_invariance_default_size_large_batch():
    """The default scenario alone and at positions in a batch big enough to need several chunks."""
    params, seeds = [Params()] * 2500, np.arange(2500) * 7919
    whole = simulate(params, seeds, steps=12)
    for k in (0, 999, 1000, 2499):
        assert_identical(whole, simulate([Params()], seeds[[k]], steps=12), rows=[k])
    assert_identical(whole, simulate(params, seeds, steps=12, workers=2))


# ------------------------------------------------------------------------------------------------
# Bad input: a clear error naming the column or argument and the value, before any work starts
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("params", "seeds", "steps", "error", "words"), [
    ([Params(), Params()], [1], None, ValueError, ["seeds", "1 seeds", "2 scenarios"]),
    (pd.DataFrame({"initial_trust": [0.5], "trust": [0.2]}), [1], None, ValueError,
     ["unknown column", "'trust'"]),
    (pd.DataFrame({"initial_trust": [0.5, 1.5]}), [1, 2], None, ValueError,
     ["'initial_trust'", "1.5", "out of range", "[0, 1]"]),
    (pd.DataFrame({"austerity": [np.nan]}), [1], None, ValueError, ["'austerity'", "nan", "NaN", "[0, 1]"]),
    (pd.DataFrame({"n_providers": [10, 2.5]}), [1, 2], None, ValueError, ["'n_providers'", "2.5", "integer"]),
    (pd.DataFrame({"commissioning": ["alliance", "market"]}), [1, 2], None, ValueError,
     ["'commissioning'", "'market'", "'alliance', 'traditional'"]),
    (pd.DataFrame({"disabled": ["IPT9"]}), [1], None, ValueError, ["disabled", "IPT9"]),
    ([Params()], [-5], None, ValueError, ["seeds[0]", "-5", "non-negative"]),
    ([Params(), Params()], [1, 2.5], None, ValueError, ["seeds[1]", "2.5", "integers"]),
    ([Params()], ["a"], None, TypeError, ["seeds", "integers", "'a'"]),
    ([Params()], [1], 0, ValueError, ["steps=0", ">= 1"]),
    ([Params()], [1], -3, ValueError, ["steps=-3", ">= 1"]),
    ([Params()], [1], 2.5, ValueError, ["steps=2.5", "integer"]),
    (Params(), [1], None, TypeError, ["params", "sequence"]),
])
def test_bad_input_is_refused_with_a_clear_message(params, seeds, steps, error, words):
    with pytest.raises(error) as info:
        simulate(params, seeds, steps)
    for word in words:
        assert word in str(info.value), f"{word!r} not in {str(info.value)!r}"


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"workers": 0}, ["workers=0"]),
    ({"chunk_size": 0}, ["chunk_size=0"]),
    ({"keep": "first"}, ["keep='first'", "'last'"]),
    ({"keep": [3, 99]}, ["keep=", "[0, 12]"]),
])
def test_bad_run_options_are_refused(kwargs, words):
    with pytest.raises(ValueError) as info:
        simulate([Params()], [1], 12, **kwargs)
    for word in words:
        assert word in str(info.value)


# ------------------------------------------------------------------------------------------------
# Output: coordinates, kept steps, horizons, Parquet
# ------------------------------------------------------------------------------------------------
def test_dataset_layout_and_keep():
    params = [Params(), Params(commissioning="traditional", n_providers=4, disabled=("B", "IPT5"))]
    full = simulate(params, [5, 6], steps=12)
    assert full.sizes == {"scenario": 2, "step": 13} and list(full.data_vars) == list(OUTCOMES)
    assert list(full["commissioning"].values) == ["alliance", "traditional"]
    assert list(full["disabled"].values) == ["", "B,IPT5"] and list(full["seed"].values) == [5, 6]
    last = simulate(params, [5, 6], steps=12, keep="last")
    assert list(last["step"].values) == [12]
    assert_identical(full.isel(step=[12]), last)
    some = simulate(params, [5, 6], steps=12, keep=[0, 6, 12])
    assert_identical(full.isel(step=[0, 6, 12]), some)


def test_steps_none_runs_each_scenario_to_its_horizon():
    params = [Params(horizon=5), Params(horizon=9)]
    ds = simulate(params, [1, 2])
    assert ds.sizes["step"] == 10
    assert np.isnan(ds["gaps"].values[0, 6:]).all() and not np.isnan(ds["gaps"].values[0, :6]).any()
    assert not np.isnan(ds["gaps"].values[1]).any()


def test_parquet_round_trip(tmp_path):
    params = [Params(horizon=4), Params(horizon=7, n_providers=3),
              Params(horizon=7, commissioning="traditional")]
    seeds = [11, 12, 13]
    ds = simulate(params, seeds)
    out = simulate_to_parquet(params, seeds, tmp_path / "run", chunk_size=1)
    # the parts and a completion marker (written last: a folder without it is not a result)
    assert sorted(p.name for p in out.iterdir()) == ["_SUCCESS", *(f"part-{k:05d}.parquet" for k in range(3))]
    frame = pd.read_parquet(out).sort_values(["scenario", "step"]).reset_index(drop=True)
    expected = tidy(ds).sort_values(["scenario", "step"]).reset_index(drop=True)
    assert len(frame) == 3 * 8
    for name in OUTCOMES:  # NaN after scenario 0's horizon in both
        np.testing.assert_array_equal(frame[name].to_numpy(), expected[name].to_numpy())
    assert frame.loc[frame["scenario"] == 0, "gaps"].isna().sum() == 3
    for col in ("seed", "horizon", "n_providers", "commissioning", "disabled"):
        assert list(frame[col]) == list(expected[col]), col
    last = pd.read_parquet(simulate_to_parquet(params, seeds, tmp_path / "last", steps=7, keep="last"))
    np.testing.assert_array_equal(last.sort_values("scenario")["mean_trust"].to_numpy(),
                                  simulate(params, seeds, steps=7)["mean_trust"].values[:, -1])


# ------------------------------------------------------------------------------------------------
# The benchmark runs (a smoke test; the figures are not checked here)
# ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_bench_quick_runs_and_reports_figures_that_make_sense():
    """The benchmark's smoke run prints its tables with figures that could be wrong: the core faster than Mesa on
    every row, a rate for one and two workers, a peak memory within bounds."""
    import re

    result = run_entry("bench", ["--quick"], ROOT, timeout=240)  # a forked child (conftest.run_entry)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    core_rows = re.findall(r"^core[^\n]*?\s([0-9.]+)$", out.split("## Mesa vs core")[1].split("##")[0], re.M)
    assert len(core_rows) >= 2 and all(float(r) > 5.0 for r in core_rows), out  # core/Mesa speed ratios
    workers = re.findall(r"^\s+([12])\s+([0-9.]+)\s+([0-9,]+)\s+([0-9.]+)$", out, re.M)
    assert {w[0] for w in workers} == {"1", "2"} and all(float(w[1]) > 0 for w in workers), out
    peak = float(re.search(r"ru_maxrss\): ([0-9.]+) GiB", out).group(1))
    assert 0.05 < peak < 4.0, out


def test_worker_processes_fork_with_the_compiled_core_loaded():
    # the fork server imports sim.engine.worker_start; it must leave the compiled month loaded (its failure
    # is swallowed there, so this is where it would show), in a process that had not run the core before
    import subprocess
    import sys

    code = ("from sim.engine import batch\n"
            "assert not batch.run_scenarios.signatures\n"
            "import sim.engine.worker_start\n"
            "assert batch.run_scenarios.signatures\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=600)
