"""The Mesa model: API, reproducibility, and the patterns it must reproduce (pattern-oriented modelling).

Each pattern test runs the Mesa model over at least 10 seeds and states the pattern it checks.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from conftest import run_model

from sim import OUTCOMES, AllianceModel, Params
from sim.model import constants as kc
from sim.model import relationships as rel
from sim.model.agents import CommunityAgent, ProviderAgent
from sim.model.draws import Purpose, shock, uniform
from sim.model.theories import RULES
from sim.params import RULE_IDS

SEEDS = range(10)
K = kc.constant_matrix([()])[0]  # the registry's constants, as the formulas read them


def test_api_and_datacollector_columns():
    model = AllianceModel(params=Params(horizon=3), seed=7)
    for _ in range(3):
        model.step()
    df = model.datacollector.get_model_vars_dataframe()
    assert list(df.columns) == list(OUTCOMES)
    assert len(df) == 4  # month 0 and three steps
    assert len(model.agents_by_type[ProviderAgent]) == 10
    assert len(model.agents_by_type[CommunityAgent]) == 5
    assert {p.sector for p in model.providers} <= {"NHS", "council social care", "voluntary/community", "private"}


def test_same_seed_same_result_different_seed_different_result():
    a = run_model(Params(horizon=12), seed=3)
    b = run_model(Params(horizon=12), seed=3)
    c = run_model(Params(horizon=12), seed=4)
    assert a.equals(b)
    assert not a.equals(c)


def test_draws_are_pure_functions_of_their_key():
    # the same key gives the same number whatever else is drawn with it
    batch = uniform(np.arange(5)[:, None], 3, Purpose.EFFORT, np.arange(4)[None, :])
    assert uniform(2, 3, Purpose.EFFORT, 1) == batch[2, 1]
    assert uniform(2, 3, Purpose.EFFORT, 1) != uniform(2, 3, Purpose.NEED, 1)
    u = uniform(1, np.arange(20000), Purpose.EFFORT, 0)
    assert 0.0 < u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.01
    z = shock(1, np.arange(20000), Purpose.NEED, 0)
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03


def test_compiled_draws_equal_numpys_bit_for_bit():
    """The care-pathway loop hashes inside numba; its draws must be exactly sim.model.draws.uniform3's."""
    from sim.model.draws import uniform3, uniform3_one

    rng = np.random.default_rng(11)
    for _ in range(500):
        seed, step = int(rng.integers(0, 2**63)), int(rng.integers(0, 700))
        a, b = int(rng.integers(0, 2**31)), int(rng.integers(0, 8))
        expected = tuple(float(u) for u in uniform3(np.uint64(seed), step, Purpose.CONTACT, a, b))
        assert uniform3_one(np.uint64(seed), step, int(Purpose.CONTACT), a, b) == expected
    # uniform() is a compiled ufunc; the numpy hash is its specification, over broadcast shapes
    from sim.model.draws import _hash

    seeds = rng.integers(0, 2**63, size=(40, 1, 1), dtype=np.int64).astype(np.uint64)
    a, b = np.arange(7)[None, :, None], rng.integers(0, 2**31, size=(1, 1, 5))
    spec = np.minimum(((_hash(seeds, 37, int(Purpose.EFFORT), a, b) >> np.uint64(11)).astype(float) + 0.5) / 2.0**53,
                      1.0 - 2.0**-53)
    assert np.array_equal(uniform(seeds, 37, Purpose.EFFORT, a, b), spec)
    logit = np.log(spec / (1.0 - spec)) * (np.sqrt(3.0) / np.pi)
    assert np.allclose(shock(seeds, 37, Purpose.EFFORT, a, b), logit, rtol=1e-15, atol=1e-15)  # libm vs numpy
    # the one key (found by inverting the hash) whose 53 top bits are all ones: its midpoint would round to
    # 1.0 and its shock to infinity; the draw stays strictly below 1
    top = (np.uint64(12345), 3, Purpose.EFFORT, 1429247062, 1554220429)
    assert int(_hash(*top[:2], int(top[2]), *top[3:]) >> np.uint64(11)) == 2**53 - 1
    assert uniform(*top) == 1.0 - 2.0**-53 and np.isfinite(shock(*top))


def test_every_rule_documents_its_cmo_and_citation():
    assert set(RULES) == set(RULE_IDS)
    for rule_id, rule in RULES.items():
        doc = inspect.getdoc(rule) or ""
        assert doc.startswith(rule_id), rule_id
        for part in ("Context", "Mechanism, resource", "Mechanism, reasoning", "Outcome"):
            assert part in doc, (rule_id, part)
        module_doc = inspect.getdoc(inspect.getmodule(rule)) or ""
        assert "Redgate et al. 2023" in module_doc


# --- mechanisms (the stylised-fact patterns are in test_patterns.py) ------------------------------
def test_trust_update_has_a_negativity_bias():
    """A disappointment of a given size lowers trust more than a success of the same size raises it,
    by about the negativity bias."""
    trust, size = 0.5, 0.2
    gain = rel.update_trust(trust, trust + size, 1.0, 0.1, 3.0) - trust
    loss = trust - rel.update_trust(trust, trust - size, 1.0, 0.1, 3.0)
    assert loss > 2.5 * gain


def test_context_gates_stop_a_mechanism_without_its_context():
    """Without its context a mechanism does not fire however strong it is: a context and a strength are
    not interchangeable (a doubled strength cannot make up for an absent context)."""
    from sim.model.logistic import gate, strength_response
    from sim.model.theories import culture, system

    t = kc.SENIOR_THRESHOLD  # 0.4
    assert gate(K, 0.0, t) == pytest.approx(0.0) and gate(K, 1.0, t) == pytest.approx(1.0)
    assert strength_response(2.0) * gate(K, 0.0, t) < 0.01 < strength_response(0.5) * gate(K, 0.8, t)
    assert culture.ipt6_arrangements_target(K, 1.0, 0.0, 0.0, 2.0) < 0.01
    # robust monitoring and evaluation makes up part of missing buy-in (the seed), not all of it
    supported = culture.ipt6_arrangements_target(K, 1.0, 0.3, 1.0, 1.0)
    assert culture.ipt6_arrangements_target(K, 1.0, 0.3, 0.0, 1.0) < supported < culture.ipt6_arrangements_target(
        K, 1.0, 1.0, 0.0, 1.0)
    # switched off (response 0), senior buy-in builds no arrangements: the rule's context acts only through it
    off, on = (culture.ipt6_arrangements_target(K, 1.0, 1.0, 1.0, response) for response in (0.0, 1.0))
    assert off == 0.0 < on
    assert system.ipt2_whole_system_target(K, 1.0, 0.0, 0.9, 0.9, 2.0) < 0.01  # no pooled budget
    # joined-up working focusing on shared outcomes: joint effort without aligned priorities (no trust) builds none
    assert system.ipt2_whole_system_target(K, 1.0, 1.0, 0.9, 0.0, 2.0) < 0.1 * system.ipt2_whole_system_target(
        K, 1.0, 1.0, 0.9, 0.9, 2.0)
    assert system.ipt1_pathway_drive(K, 1.0, 0.0, 0.9, 0.9, 0.0, 2.0) < 0.01  # no complex need


def test_the_alliances_programmes_cost_capacity_whether_or_not_their_contexts_repay_them():
    """IPT3's community engagement and IPT7's transformation programme take an alliance's capacity wherever it
    runs them (community assets and a ready culture only decide whether they pay back); separate contracts run
    neither, and a rule switched off takes its programme's cost with it."""
    from sim.model import commissioning as com
    from sim.model.theories import culture, local

    engaged = local.ipt3_engagement(K, 1.0, 1.0)
    changing = culture.ipt7_change_programme(1.0)
    assert engaged > 0.99 and changing == 1.0
    assert local.ipt3_engagement(K, 1.0, 0.0) == 0.0 == culture.ipt7_change_programme(0.0)
    assert local.ipt3_engagement(K, 0.0, 2.0) < 0.01  # no place-based working: no engagement programme
    base = com.overhead(K, 1.0, 0.5, 0.2, 10, 0.5, 0.5, 0.0, 0.0)
    assert com.overhead(K, 1.0, 0.5, 0.2, 10, 0.5, 0.5, engaged, changing) == pytest.approx(
        base + K[kc.ENGAGEMENT_COST] * engaged + K[kc.CHANGE_COST] * changing)
    assert com.overhead(K, 0.0, 0.5, 0.2, 10, 0.5, 0.5, engaged, changing) == com.overhead(
        K, 0.0, 0.5, 0.2, 10, 0.5, 0.5, 0.0, 0.0)


def test_a_common_aim_is_harder_to_agree_with_more_partners():
    """IPT4's shared focus responds less the more partners must agree (Provan & Kenis 2008): the same at ten
    providers as the response's reference, more with six, less with thirty."""
    from sim.model.theories import local

    aims = [local.ipt4_alignment_target(K, 1.0, 0.6, n, 1.0) for n in (6, 10, 30)]
    assert aims[0] > aims[1] > aims[2]


def test_individual_accountability_keeps_a_persons_care_with_its_owner_in_either_mode():
    """The counterfactual's own route to continuity: a monitored contract names who answers for the person, and that
    provider keeps their next component more often; an alliance's pooled budget diffuses it; with case_ownership 0
    the route is off. In a talking-shop context (no senior buy-in, distrust, unready culture, full pooling and
    monitoring), separate contracts then keep more of a person's care than the alliance does (systemic change can go
    either way)."""
    from sim.analysis.evidence_patterns import YEAR_5, _year_means
    from sim.model import commissioning as com
    from sim.model import services as svc

    owned = com.accountability(K, 0.0, 1.0, 1.0, 60)
    assert svc.keep_chance(K, 0.0, 0.0, owned) == pytest.approx(K[kc.CASE_OWNERSHIP] * owned)
    assert svc.keep_chance(K, 0.0, 0.0, com.accountability(K, 1.0, 1.0, 1.0, 60)) < svc.keep_chance(K, 0.0, 0.0, owned)
    assert svc.keep_chance(K, 0.0, 0.0, com.accountability(K, 0.0, 0.0, 1.0, 60)) == 0.0
    strong = {"case_ownership": 0.4, "accountability": 0.5}
    shop = Params(pooled_share=1.0, monitoring=1.0, culture_readiness=0.0, senior_commitment=0.0, initial_trust=0.1,
                  constants=strong)
    kept = _year_means(shop, 8, list(YEAR_5), 1, ("systemic_change",))["systemic_change"][:, 0]
    assert kept[1] > kept[0]  # traditional (row 1) keeps more than the alliance (row 0)
    off = _year_means(shop.replace(constants={**strong, "case_ownership": 0.0}), 8, list(YEAR_5), 1,
                      ("systemic_change",))["systemic_change"][:, 0]
    assert off[1] < kept[1] - 0.05  # the route, not something else, kept it


def test_traditional_commissioning_has_its_own_mechanisms():
    """Separate contracts are not the alliance with zeros: KPIs pull effort, specialisation raises
    productivity, accountability for referrals grows with monitoring, a poor performer is re-tendered."""
    from sim.model import commissioning as com

    assert com.own_priorities_pull(K, 0.0, 1.0, 0.0, 0.4, 0.0) > com.own_priorities_pull(K, 0.0, 0.2, 0.0, 0.4, 0.0)
    assert com.productivity(K, 0.0, 0.0, 0.1, 0.0) > com.productivity(K, 0.0, 1.0, 0.1, 0.0)
    # performance management of output: the more individually accountable, the more contracted activity
    assert com.productivity(K, 0.0, 0.0, 0.1, 0.2) > com.productivity(K, 0.0, 0.0, 0.1, 0.0)
    none = kc.constant_matrix([(("performance_gain", 0.0),)])[0]
    assert com.productivity(none, 0.0, 0.0, 0.1, 0.2) == com.productivity(none, 0.0, 0.0, 0.1, 0.0)
    assert com.accountability(K, 0.0, 1.0, 0.6, 60) > com.accountability(K, 1.0, 1.0, 0.6, 60)
    # diffusion builds up as the pooled budget beds in: none lost in a traditional month, the most once bedded in
    k12 = kc.constant_matrix([(("diffusion_months", 12.0),)])[0]
    alliance = [com.accountability(k12, 1.0, 1.0, 0.6, t) for t in (0, 6, 11, 24)]
    assert alliance[0] > alliance[1] > alliance[2] == alliance[3]
    assert com.accountability(k12, 0.0, 1.0, 0.6, 0) == com.accountability(k12, 0.0, 1.0, 0.6, 60)
    assert com.coordination_cost(K, 0.0, 0.2, 10, 0.5, 0.5) == 0.0 < com.coordination_cost(K, 1.0, 0.2, 10, 0.5, 0.5)
    trust = np.array([0.6, 0.2, 0.5])
    assert com.retender_choice(K, 0.0, trust, True) == 1 and com.retender_choice(K, 1.0, trust, True) == -1
    assert com.retender_choice(K, 0.0, trust, False) == -1


def test_contracts_specified_from_assessed_need_tailor_in_either_mode():
    """Needs-led specification (JSNA): reached as contracts are re-let over one term, sooner with shorter terms,
    and co-produced tailoring (IPT3) covers part of what it leaves."""
    from sim.model import commissioning as com

    spec = kc.constant_matrix([(("needs_specification", 0.4),)])[0]
    assert com.specified_tailoring(spec, 0.0, 71, 72) == pytest.approx(0.4)
    assert com.specified_tailoring(spec, 0.0, 200, 72) == pytest.approx(0.4)
    assert com.specified_tailoring(spec, 0.0, 11, 72) < com.specified_tailoring(spec, 0.0, 11, 24)
    assert com.specified_tailoring(spec, 0.5, 71, 72) == pytest.approx(1.0 - 0.5 * 0.6)
    off = kc.constant_matrix([(("needs_specification", 0.0),)])[0]
    assert com.specified_tailoring(off, 0.3, 71, 72) == pytest.approx(0.3)


def test_roles_changed_in_an_unready_culture_lose_handoffs_and_keep_less_care():
    """IPT7's risk: roles an alliance has changed confuse staff where the culture is not ready, and not where it is
    ready, nor with roles unchanged, nor with the rule off, nor under separate contracts; confused, handoffs are lost
    more often and the provider holding a person keeps less of their care."""
    from sim.model.theories import culture

    inherited = K[kc.INHERITED_ROLE_FLEXIBILITY]
    changed = inherited + 0.5
    confused = culture.ipt7_role_confusion(K, 1.0, 0.0, changed, 1.0)
    assert confused > 0.5
    assert culture.ipt7_role_confusion(K, 1.0, 1.0, changed, 1.0) < 0.05
    assert culture.ipt7_role_confusion(K, 1.0, 0.0, inherited, 1.0) == 0.0
    assert culture.ipt7_role_confusion(K, 1.0, 0.0, changed, 0.0) == 0.0
    assert culture.ipt7_role_confusion(K, 0.0, 0.0, changed, 1.0) == 0.0
    assert culture.ipt7_confused_loss(0.2, confused) > 0.2 * 1.5
    assert culture.ipt7_confused_keep(0.4, confused) < 0.4 / 1.5
    assert culture.ipt7_confused_loss(0.2, 0.0) == 0.2 and culture.ipt7_confused_keep(0.4, 0.0) == 0.4


def test_a_retendered_provider_arrives_with_no_relationships():
    p = Params(commissioning="traditional", contract_length=12, horizon=12, monitoring=1.0, initial_trust=0.1,
               own_priorities=1.0)
    model = AllianceModel(params=p, seed=3)
    before = [id(x) for x in model.provider_list]
    model.run(12)
    replaced = [k for k, x in enumerate(model.provider_list) if id(x) != before[k]]
    assert len(replaced) == 1
    k = replaced[0]
    newcomer = model.provider_list[k]
    stranger = model.k[kc.STRANGER_TRUST] * p.initial_trust  # the registry's share of starting trust
    assert np.allclose(np.delete(newcomer.trust, k), stranger)
    assert all(other.trust[k] == pytest.approx(stranger) for j, other in enumerate(model.provider_list) if j != k)
    assert newcomer in model.agents


def test_events_change_the_world_when_they_say():
    base = Params(horizon=30)
    shocked = base.replace(events=("budget_cut@12=0.5", "demand_surge@12=0.5"))
    a, b = run_model(base, 4), run_model(shocked, 4)
    assert a.loc[:11].equals(b.loc[:11])  # identical before the events
    assert b["access"].iloc[20] < a["access"].iloc[20] - 0.05
    leader = run_model(base.replace(events=("leadership_change@6=0",)), 4)
    assert leader["mean_commitment"].iloc[30] < a["mean_commitment"].iloc[30]


# --- every state stays in range -------------------------------------------------------------------
def _params_strategy():
    from hypothesis import strategies as st

    fields = {}
    for s in Params.schema():
        if s.name in ("horizon", "events"):
            continue
        if s.name == "constants":  # up to four model constants anywhere in their plausible ranges
            registry = Params.constants_schema()
            fields[s.name] = st.dictionaries(st.sampled_from([c.name for c in registry]), st.floats(0.0, 1.0),
                                             max_size=4).map(lambda d, r={c.name: c for c in registry}: {
                                                 n: r[n].low + u * (r[n].high - r[n].low) for n, u in d.items()})
            continue
        if s.type is float:
            fields[s.name] = st.floats(s.low, s.high, allow_nan=False)
        elif s.type is int:
            high = {"n_providers": 15, "n_localities": 6, "n_domains": 6}.get(s.name, s.high)
            fields[s.name] = st.integers(int(s.low), int(high))
        elif s.name == "commissioning":
            fields[s.name] = st.sampled_from(s.choices)
        else:
            fields[s.name] = st.lists(st.sampled_from(s.choices), max_size=3).map(tuple)
    return st.fixed_dictionaries(fields).map(_valid_params).filter(lambda p: p is not None)


def _valid_params(values: dict):
    try:
        return Params(horizon=24, **values)
    except ValueError:  # constants that break a joint constraint (e.g. experience weights summing above 1)
        return None


def test_states_stay_in_range_for_any_valid_parameters():
    # hypothesis (~1.6 s to import) is imported when this test runs, not when every worker collects the file
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    check = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])(
        given(params=_params_strategy(), seed=st.integers(0, 2**63 - 1))(_states_stay_in_range))
    check()


def _states_stay_in_range(params, seed):
    model = AllianceModel(params=params, seed=seed)
    for _ in range(params.horizon):
        model.step()
        for p in model.providers:
            assert np.all((p.trust >= 0) & (p.trust <= 1))
            for value in (p.commitment, p.alignment, p.orientation, p.innovation, p.effort, p.role_flexibility,
                          p.practice, p.trust_in_commissioner):
                assert 0.0 <= value <= 1.0
        for c in model.communities:
            assert np.all(c.backlog >= 0)
            for value in (c.experience, c.participation, c.confidence, c.formal, c.tailoring, c.pressure):
                assert 0.0 <= value <= 1.0
        boss = model.commissioner
        assert boss.budget > 0 and 0.0 <= boss.whole_system <= 1.0 and 0.0 <= boss.arrangements <= 1.0
        assert np.all((boss.trust_in_providers >= 0) & (boss.trust_in_providers <= 1))
        out = model.outcomes
        for name in OUTCOMES:
            assert np.isfinite(out[name]), name
            if name not in ("value", "handoffs"):
                assert 0.0 <= out[name] <= 1.0, (name, out[name])
        assert out["value"] >= 0.0 and 0.0 <= out["handoffs"] <= params.n_domains - 1


def test_bad_model_input():
    with pytest.raises(TypeError, match="params"):
        AllianceModel(params={"initial_trust": 0.3})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed=-1"):
        AllianceModel(seed=-1)
    with pytest.raises(TypeError, match="seed=1.5"):
        AllianceModel(seed=1.5)  # type: ignore[arg-type]


def test_compiled_response_functions_equal_scipy_and_numpy_within_an_ulp():
    """logistic, saturation and strength_response are compiled ufuncs (libm's exp); they must equal the
    numpy/scipy formulas within 2 ulps of the exp they use (numpy's own SIMD exp and expm1 may differ from
    libm's by an ulp, e.g. on CPUs with AVX-512), and their plain-Python path (single numbers) must equal
    their compiled path exactly."""
    from scipy.special import expit

    from sim.model.logistic import gate, gate_high, gate_low, logistic, saturation, strength_response

    x = np.random.default_rng(3).normal(0.0, 8.0, 100_000)
    np.testing.assert_array_max_ulp(logistic(x), expit(x), maxulp=2)
    s = np.linspace(0.0, 2.0, 201)
    np.testing.assert_array_max_ulp(strength_response(s), -np.expm1(-s) / -np.expm1(-1.0), maxulp=2)
    # 1 - exp(-s): an ulp of difference in exp (near 1) is up to 64 ulps of a small result, so compare on the
    # scale of the exp it subtracts (two ulps of 1.0), not on the result's own ulps
    np.testing.assert_allclose(saturation(s), 1.0 - np.exp(-s), rtol=0.0, atol=2 * np.spacing(1.0))
    assert np.max(np.abs(saturation(s) + np.expm1(-s))) < 2e-16
    # a gate from the scenario's constants row equals the logistic step rescaled, within an ulp or two
    slope = K[kc.GATE_SLOPE]
    for t in (kc.SENIOR_THRESHOLD, kc.READINESS_THRESHOLD, kc.PLACE_THRESHOLD):
        threshold = K[t]
        low, high = expit(-slope * threshold), expit(slope * (1.0 - threshold))
        assert K[kc.GATE_LOW + t] == gate_low(np.array([threshold]), slope)[0]
        assert K[kc.GATE_HIGH + t] == gate_high(np.array([threshold]), slope)[0]
        for c in np.linspace(0, 1, 101):
            assert gate(K, c, t) == pytest.approx((expit(slope * (c - threshold)) - low) / (high - low), abs=1e-15)
    # single numbers take the plain-Python path; it must give the compiled path's numbers
    for value in (-3.0, 0.0, 0.2, 0.7, 4.5):
        assert logistic(value) == logistic(np.array([value]))[0]
        assert strength_response(abs(value)) == strength_response(np.array([abs(value)]))[0]
        assert saturation(value) == saturation(np.array([value]))[0]


def test_the_compiled_run_and_what_it_calls_do_no_reference_counting():
    """numba's reference counting costs two atomic operations on every array view (a sixth of the core's time);
    the compiled run and the compiled functions it calls are built without it, and allocate nothing."""
    from sim.engine import batch, walk

    for dispatcher in (batch.run_scenarios, batch.replace_provider, walk.walk_scenario):
        assert dispatcher.targetoptions.get("_nrt") is False, dispatcher.py_func.__name__


def test_compiled_caches_are_stamped_with_the_whole_model_source():
    """numba stamps a cached function with its own file only; the compiled run inlines formulas and phases from
    many files, so every cached function of sim.model and sim.engine is stamped with a digest of both folders."""
    from sim.engine import batch, compiled, walk

    for dispatcher in (batch.run_scenarios, batch.replace_provider, walk._walk_episodes):
        locator = dispatcher._cache._impl.locator
        assert type(locator).__name__ == "ModelSourceLocator"
        assert locator.get_source_stamp() == compiled.model_source_digest()
    # the digest covers every source file of the model and the engine, theories included
    files = {str(p.relative_to(folder.parent)) for folder in compiled.MODEL_SOURCES for p in folder.rglob("*.py")}
    assert {"engine/batch.py", "model/theories/culture.py", "model/outcomes.py", "model/phases.py"} <= files
