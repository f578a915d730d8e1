"""The teaching app (sim/app/teaching.py): controls derived from the schema, presets, and the app in a real browser.

The browser tests start ``scripts/app.sh`` (the documented launcher, with the offline asset cache) on a
free port of 127.0.0.1 and drive Debian's Chromium with Playwright. They skip only when no Chromium
executable exists and the CI variable is not set; in CI a missing browser is a failure.
"""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from sim.params import RULE_IDS, Params

# sim.app.teaching (Solara, Mesa's visualisation: ~3.5 s) is imported by the tests that use it, not when
# pytest collects this file in every worker.

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
#: Every browser wait is on a state, with a timeout generous enough for a loaded 2-core machine
#: (Playwright's default of 5 s timed out there now and then).
STATE_TIMEOUT = 30_000


# --- controls and presets (no browser) ----------------------------------------------------------------
def test_every_numeric_field_has_a_slider_with_the_schema_range_label_unit_and_meaning() -> None:
    from sim.app.teaching import GROUP_TITLES, OPEN_GROUPS, SLIDER_GROUPS, control_specs

    controls = control_specs()
    numeric = [s for s in Params.schema() if s.type in (int, float)]
    assert {s.group for s in numeric} <= set(SLIDER_GROUPS) == set(GROUP_TITLES)
    assert OPEN_GROUPS == ("context", "lever")
    for s in numeric:
        c = controls[s.name]
        assert c["type"] == ("SliderInt" if s.type is int else "SliderFloat"), s.name
        assert (c["min"], c["max"], c["value"]) == (s.low, s.high, s.default), s.name
        assert (c["label"], c["unit"], c["meaning"], c["group"]) == (s.label, s.unit, s.meaning, s.group), s.name
        assert (s.high - s.low) / 100 <= c["step"] <= (s.high - s.low) / 40 or s.type is int, s.name
        _assert_on_grid(s.name, s.default, c)


def _assert_on_grid(name: str, value: float, control: dict) -> None:
    # Vuetify snaps a slider to min + k * step when it is shown: a value off that grid would change.
    k = (value - control["min"]) / control["step"]
    assert abs(k - round(k)) < 1e-6, f"{name}={value} is not on its slider's grid (step {control['step']})"


def test_preset_values_are_on_the_slider_grid() -> None:
    from sim.app.teaching import control_specs, load_presets, preset_settings

    controls = control_specs()
    for preset in load_presets().values():
        for name, value in preset_settings(preset).items():
            if controls[name]["type"].startswith("Slider"):
                _assert_on_grid(f"{preset.name}: {name}", value, controls[name])


def test_every_rule_has_a_switch_and_switches_feed_disabled() -> None:
    from sim.app.teaching import RULE_KEY, Preset, control_specs, preset_settings, settings_to_params

    controls = control_specs()
    for rule in RULE_IDS:
        switch = controls[RULE_KEY + rule]
        assert switch["type"] == "Checkbox" and switch["value"] is True and rule in switch["label"]
    settings = preset_settings(Preset("x", "", {"disabled": ["C"]}))
    assert [r for r in RULE_IDS if not settings[RULE_KEY + r]] == ["IPT5", "IPT6", "IPT7"]
    assert settings_to_params(settings).disabled_rules() == {"IPT5", "IPT6", "IPT7"}


def test_slider_noise_is_snapped_into_range() -> None:
    from sim.app.teaching import settings_to_params

    params = settings_to_params({"senior_commitment": 0.35000000000000003, "initial_trust": 1.0000000001,
                                 "n_providers": 7.0})
    assert (params.senior_commitment, params.initial_trust, params.n_providers) == (0.35, 1.0, 7)
    with pytest.raises(TypeError, match="unknown app settings"):
        settings_to_params({"not_a_field": 1})


def test_presets_are_read_generically(tmp_path: Path) -> None:
    from sim.app.teaching import RULE_KEY, load_presets, preset_settings

    (tmp_path / "a.yaml").write_text("description: A test\nparams:\n  initial_trust: 0.2\n"
                                     "  disabled: [IPT6]\n")
    (tmp_path / "b.yaml").write_text("description: 'Plain name: what it is'\nparams:\n  austerity: 0.2\n")
    (tmp_path / "bad.yaml").write_text("params:\n  initial_trust: 7\n")  # out of range: left out
    (tmp_path / "mode.yaml").write_text("params:\n  commissioning: traditional\n")  # the app shows both modes
    presets = load_presets(tmp_path)
    assert list(presets) == ["default", "a", "b"] and presets["a"].description == "A test"
    assert (presets["a"].title, presets["b"].title, presets["b"].summary) == ("A", "Plain name", "what it is")
    settings = preset_settings(presets["a"])
    assert settings["initial_trust"] == 0.2 and settings[RULE_KEY + "IPT6"] is False
    assert list(load_presets(tmp_path / "missing")) == ["default"]


def test_repository_presets_all_load_with_plain_distinct_names() -> None:
    import yaml

    from sim.app.teaching import load_presets

    folder = ROOT / "sim" / "conf" / "scenario"
    presets = load_presets(folder)
    assert "default" in presets
    only_mode = [p for p in folder.glob("*.yaml")
                 if set(yaml.safe_load(p.read_text()).get("params") or {}) == {"commissioning"}]
    assert len(presets) - 1 == len([p for p in folder.glob("*.yaml") if p.stem != "default"]) - len(only_mode)
    titles = [p.title for p in presets.values()]
    assert len(set(titles)) == len(titles) and not any("_" in t for t in titles), titles


def test_twins_differ_only_in_commissioning_and_stop_at_horizon() -> None:
    from sim.app.teaching import Preset, TwinModel, preset_settings

    model = TwinModel(**{**preset_settings(Preset("d", "")), "horizon": 4, "seed": 3})
    a, t = model.alliance.params.to_dict(), model.traditional.params.to_dict()
    assert {k for k in a if a[k] != t[k]} == {"commissioning"}
    assert model.alliance.scenario_seed == model.traditional.scenario_seed == 3
    for _ in range(6):
        model.step()
    assert model.alliance.month == model.traditional.month == 4 and not model.running


def _fresh_outcomes(params: Params, seed: int, months: int) -> dict[str, dict[str, float]]:
    """Both modes' outcomes at ``months`` from AllianceModel alone (no app code)."""
    from sim.model.alliance import AllianceModel

    out = {}
    for mode in ("alliance", "traditional"):
        m = AllianceModel(params=params.replace(commissioning=mode), seed=seed)
        m.run(months)
        out[mode] = dict(m.outcomes)
    return out


def test_a_shock_equals_a_fresh_run_with_that_event_list() -> None:
    from sim.app.teaching import Preset, TwinModel, preset_settings, shock_event

    model = TwinModel(**{**preset_settings(Preset("d", "")), "seed": 4, "horizon": 24})
    for _ in range(5):
        model.step()
    before = model.alliance.datacollector.get_model_vars_dataframe().copy()
    for kind, value in (("leadership_change", 0.1), ("provider_exit", None), ("budget_cut", 0.25),
                        ("demand_surge", 0.3)):
        model = model.with_event(shock_event(kind, model.month + 1, value))
        assert model.month in (5, 7, 9, 11)
        model.step()
        model.step()
    assert model.params.events == ("leadership_change@6=0.1", "provider_exit@8", "budget_cut@10=0.25",
                                   "demand_surge@12=0.3")
    after = model.alliance.datacollector.get_model_vars_dataframe()
    assert after.loc[:5].equals(before.loc[:5])  # months before the first shock are as they were
    fresh = _fresh_outcomes(Params(horizon=24, events=model.params.events), 4, model.month)
    assert {"alliance": model.alliance.outcomes, "traditional": model.traditional.outcomes} == fresh
    assert fresh["alliance"] != _fresh_outcomes(Params(horizon=24), 4, model.month)["alliance"]


def test_shock_values_are_checked_with_one_clear_message() -> None:
    from sim.app.teaching import SHOCKS, shock_event
    from sim.params.events import EVENT_KINDS

    assert set(SHOCKS) == set(EVENT_KINDS)
    assert shock_event("budget_cut", 5, 0.2) == "budget_cut@5=0.2"
    assert shock_event("provider_exit", 5, None) == "provider_exit@5"
    with pytest.raises(ValueError, match="out of range"):
        shock_event("budget_cut", 5, 0.95)


def test_run_overrides_rebuild_the_same_params() -> None:
    from sim.app.teaching import run_overrides

    params = Params(senior_commitment=0.0, horizon=36, disabled=("IPT6", "IPT7"),
                    events=("budget_cut@24=0.2", "provider_exit@30"))
    line = run_overrides(params, 11)
    assert "params.events=[budget_cut@24=0.2,provider_exit@30]" in line and "first_seed=11" in line
    assert _parse_overrides(line) == (params, 11)
    assert _parse_overrides(run_overrides(Params(), 7)) == (Params(), 7)


def _parse_overrides(line: str) -> tuple[Params, int]:
    """Params and seed from the app's rerun command (Hydra's override syntax for these keys)."""
    values, seed = {}, None
    for part in line.split()[2:]:
        key, _, value = part.partition("=")
        if key == "first_seed":
            seed = int(value)
        elif key.startswith("params."):
            name = key.removeprefix("params.")
            if value.startswith("["):
                values[name] = tuple(v for v in value[1:-1].split(",") if v)
            else:
                values[name] = Params.spec(name).type(float(value)) if Params.spec(name).type is int else float(value)
    return Params.from_dict(values), seed


def test_pending_changes_are_flagged_and_presets_match_only_their_own_settings() -> None:
    from sim.app.teaching import PRESETS, TwinModel, matching_preset, normalise, preset_settings

    settings = preset_settings(PRESETS["no_senior_buy_in"])
    model = TwinModel(**settings)
    assert normalise(settings) == model.settings and matching_preset(settings) == "no_senior_buy_in"
    moved = {**settings, "monitoring": 0.6000000000000001}  # a browser slider's noise
    assert normalise(moved) != model.settings and matching_preset(moved) is None
    late = {**settings, "events": ("budget_cut@70=0.2",)}  # past the horizon: listed, not run
    assert normalise(late) != model.settings and TwinModel(**late).params.events == ()
    assert normalise(late) == TwinModel(**late).settings


def test_directions_and_labels_come_from_the_outcome_registry() -> None:
    from sim.app.components import figures_html, outcome_figure
    from sim.app.teaching import Preset, TwinModel, preset_settings
    from sim.model.outcomes import OUTCOME_REGISTRY

    model = TwinModel(**preset_settings(Preset("d", "")))
    model.step()
    table = figures_html(model)
    for o in OUTCOME_REGISTRY:
        assert re.search(rf"<td>{re.escape(html.escape(o.label))}</td>.*?<td>{o.direction}</td>", table), o.name
        title = outcome_figure(model, o.name).axes[0].get_title()
        assert title.lower() == f"{o.label} ({o.direction})".lower(), title
        for mode, m in (("alliance", model.alliance), ("traditional", model.traditional)):
            assert f"class='fig-{o.name}-{mode}' data-value='{m.outcomes[o.name]!r}'" in table
    # one list: no second list of directions or labels in the app's code
    for path in (ROOT / "sim" / "app").glob("*.py"):
        text = path.read_text()
        assert "is better" not in text and "LOWER_IS_BETTER" not in text, path.name


def test_figures_draw_with_event_marks() -> None:
    from sim.app.components import event_marks, locality_figure, network_figure, outcome_figure
    from sim.app.teaching import Preset, TwinModel, preset_settings

    model = TwinModel(**{**preset_settings(Preset("d", "")), "n_providers": 6,
                         "events": ("budget_cut@2=0.2", "provider_exit@9")})
    for _ in range(3):
        model.step()
    assert event_marks(model) == [(2, "budget_cut")]  # a mark appears once its month is shown
    fig = outcome_figure(model, "fragmentation")
    assert [t.get_text() for t in fig.axes[0].texts] == ["budget cut"]
    for drawn in (fig, outcome_figure(model, "value"), network_figure(model, "sector"),
                  network_figure(model, "commitment"), locality_figure(model)):
        drawn.savefig(io.BytesIO(), format="png")



def test_views_never_see_a_half_stepped_month() -> None:
    """Playback steps the runs in a thread while the page draws: a view holds the runs' lock, so a step waits
    until it has drawn, and every chart drawn during playback shows both runs at the same month."""
    import threading

    from sim.app.components import figures_html, outcome_figure, reads_runs
    from sim.app.teaching import Preset, TwinModel, preset_settings

    model = TwinModel(**{**preset_settings(Preset("d", "")), "n_providers": 6, "horizon": 40})
    inside, release = threading.Event(), threading.Event()

    @reads_runs
    def slow_view(m: TwinModel) -> int:
        inside.set()
        assert release.wait(10)
        return m.month

    viewer = threading.Thread(target=slow_view, args=(model,))
    viewer.start()
    assert inside.wait(10)
    stepper = threading.Thread(target=model.step)
    stepper.start()
    stepper.join(0.3)
    assert stepper.is_alive() and model.month == 0, "a step went ahead while a view was reading the runs"
    release.set()
    viewer.join(10)
    stepper.join(10)
    assert model.month == 1

    player = threading.Thread(target=lambda: [model.step() for _ in range(39)])
    player.start()
    drawn = 0
    while player.is_alive() or drawn == 0:
        fig = outcome_figure(model, "fragmentation")
        ends = {int(line.get_xdata()[-1]) for line in fig.axes[0].get_lines()}
        assert len(ends) == 1, f"the two runs were drawn at different months: {sorted(ends)}"
        assert "data-month=" in figures_html(model)
        drawn += 1
    player.join()
    assert model.month == 40 and drawn > 0


# --- a person's journey -------------------------------------------------------------------------------
JOURNEY_CASES = [
    (Params(horizon=30, events=("budget_cut@5=0.2", "leadership_change@8=0.1", "provider_exit@10",
                                "demand_surge@12=0.3")), 3),
    (Params(commissioning="traditional", n_providers=7, n_domains=6, horizon=30), 5),
    (Params(senior_commitment=0.0, contract_length=12, need_complexity=0.9, horizon=30), 1),
]


@pytest.mark.parametrize("params,seed", JOURNEY_CASES)
def test_journey_replay_gives_the_walks_counts(params: Params, seed: int) -> None:
    """Each locality's month, replayed episode by episode, sums to the compiled walk's counts, exactly:
    providers leaving (events, re-tendering), other sizes and both modes included."""
    from sim.analysis.journeys import WalkRecorder, replay_counts
    from sim.model.alliance import AllianceModel

    model = AllianceModel(params=params, seed=seed)
    recorder = WalkRecorder(model)
    totals = {"handoffs": 0.0, "lost": 0.0, "duplicated": 0.0}
    for _ in range(params.horizon):
        model.step()
        for community in model.communities:
            inputs = recorder.inputs[community.index]
            assert (inputs.month, inputs.locality) == (model.month, community.index)
            replayed = replay_counts(inputs)
            assert replayed == {k: community.counts[k] for k in replayed}, (model.month, community.index)
            for k in totals:
                totals[k] += replayed[k]
    assert all(v > 0 for v in totals.values()), totals  # the cases do exercise losses and repeats


def test_journey_is_the_same_person_in_both_modes() -> None:
    from sim.analysis.journeys import pick_episode, replay
    from sim.app.teaching import Preset, TwinModel, preset_settings

    model = TwinModel(**preset_settings(Preset("d", "")))
    for _ in range(24):
        model.step()
    for locality in range(model.params.n_localities):
        a, t = (model.recorders[mode].inputs[locality] for mode in ("alliance", "traditional"))
        for person in range(3):
            episode = pick_episode(a, person)
            ja, jt = replay(a, episode), replay(t, episode)
            assert ja.complex and len(ja.contacts) == len(jt.contacts)
            assert [c.domain for c in ja.contacts] == [c.domain for c in jt.contacts]  # same need
    with pytest.raises(ValueError, match="episode=12"):
        replay(a, 12)

# --- the app in a browser ------------------------------------------------------------------------------
def _chromium() -> str | None:
    for path in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser")):
        if path and os.access(path, os.X_OK):
            return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser_path() -> str:
    path = _chromium()
    if path is None:
        reason = "no Chromium executable (install it: apt-get install -y chromium)"
        if IN_CI:
            pytest.fail(f"{reason}; CI must run the browser tests")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module", autouse=True)
def _app_server_process(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """scripts/app.sh on a free port, started when this file's first test starts (if a browser test is to run
    and Chromium exists), so that it starts up while the tests without a browser run; stopped afterwards.
    ``app_server`` waits until it answers."""
    browser_tests = [item for item in request.session.items
                     if item.path == request.node.path and item.get_closest_marker("browser")]
    if not browser_tests or _chromium() is None:
        yield None
        return
    port = _free_port()
    log_path = tmp_path_factory.mktemp("app") / "server.log"
    # Solara behaves differently when PYTEST_CURRENT_TEST is set: start the server as a user would.
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    # A fresh home: Solara's first-run "call home" would show up here as a request to solara.dev.
    env.update(PYTHON=sys.executable, PORT=str(port), HOST="127.0.0.1",
               HOME=str(tmp_path_factory.mktemp("home")))
    started = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "app.sh")], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield {"proc": proc, "url": f"http://127.0.0.1:{port}/", "log": log_path, "started": started}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # our own process group (start_new_session)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def app_server(browser_path: str, _app_server_process: dict | None) -> dict:
    """The app server once it answers: its URL, log path and start time."""
    server = _app_server_process
    assert server is not None  # started for every module with browser tests once Chromium exists
    proc, url, log_path = server["proc"], server["url"], server["log"]
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"app server did not start (exit {proc.poll()}):\n{log_path.read_text()[-3000:]}")
        time.sleep(0.3)
    return {"url": url, "log": log_path, "started": server["started"]}


@pytest.fixture(scope="module")
def browser(browser_path: str) -> Iterator:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if IN_CI:
            raise
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=browser_path, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture
def page(browser, app_server: dict) -> Iterator:
    """A fresh page that records every request and every console error."""
    context = browser.new_context(viewport={"width": 1600, "height": 1300})
    p = context.new_page()
    p.requests, p.errors = [], []
    p.on("request", lambda r: p.requests.append(r.url))
    p.on("console", lambda m: p.errors.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: p.errors.append(str(e)))
    from playwright.sync_api import expect

    expect.set_options(timeout=STATE_TIMEOUT)
    p.set_default_timeout(STATE_TIMEOUT)
    p.goto(app_server["url"])
    yield p
    context.close()


# --- browser helpers: every wait is on a state the page shows ------------------------------------------
MONTH = re.compile(r"^Month (\d+) of (\d+)$")


def _wait_month(page, n: int):
    from playwright.sync_api import expect

    expect(page.locator(".month-counter")).to_have_text(re.compile(rf"^Month {n} of \d+$"))


def _month(page) -> tuple[int, int]:
    found = MONTH.match(page.locator(".month-counter").inner_text().strip())
    assert found, page.locator(".month-counter").inner_text()
    return int(found.group(1)), int(found.group(2))


def _wait_idle(page) -> None:
    """Playback has ended (its loop redraws once more after a pause, then the button turns back to Play)."""
    from playwright.sync_api import expect

    expect(page.locator(".play")).to_contain_text("Play")


def _run_id(page) -> str:
    return page.locator(".run-overrides").get_attribute("data-run") or ""


def _settled(page, old_run: str | None = None) -> None:
    """Wait until the run panel, the month counter and the figures table show the same run and month (they are
    separate widgets, updated by separate messages), and, given ``old_run``, until that run has been replaced."""
    page.wait_for_function("""old => {
        const t = document.querySelector('.figures-table'), r = document.querySelector('.run-overrides'),
              c = document.querySelector('.month-counter');
        return !!(t && r && c) && t.dataset.run === r.dataset.run && r.dataset.run !== old &&
               c.innerText.trim().startsWith('Month ' + t.dataset.month + ' of'); }""", arg=old_run or "")


def _figures(page) -> tuple[int, dict[str, dict[str, float]]]:
    """The month of the figures table and every outcome's value in both runs, at full precision."""
    month, cells = page.evaluate("""() => {
        const t = document.querySelector('.figures-table');
        return [Number(t.dataset.month),
                [...t.querySelectorAll('td[data-value]')].map(td => [td.className, td.dataset.value])]; }""")
    out: dict[str, dict[str, float]] = {"alliance": {}, "traditional": {}}
    for cls, value in cells:
        name, mode = cls.removeprefix("fig-").rsplit("-", 1)
        out[mode][name] = float(value)
    return month, out


def _open_all_groups(page) -> None:
    """Open the collapsed control groups, so every control is on the page."""
    from playwright.sync_api import expect

    for title in ("Model assumptions", "Scale", "Programme theories (switch a rule off)"):
        header = page.locator(".v-expansion-panel-header", has_text=title)
        if "v-expansion-panel-header--active" not in (header.get_attribute("class") or ""):
            header.click()
        expect(header).to_have_class(re.compile(r"\bv-expansion-panel-header--active\b"))
    expect(page.locator(".ctl-horizon .v-slider")).to_be_visible()
    expect(page.locator(".ctl-rule_IPT7 input")).to_be_attached()


def _displayed(page) -> tuple[dict[str, float | bool], tuple[str, ...]]:
    """What the controls show: every slider's position (and its value text, which must agree), every rule switch,
    and the controls' event list."""
    values = page.evaluate("""() => {
        const out = {};
        for (const el of document.querySelectorAll('[class*="ctl-"]')) {
            const name = [...el.classList].find(c => c.startsWith('ctl-')).slice(4);
            const thumb = el.querySelector('[role=slider]');
            const box = el.querySelector('input[type=checkbox]');
            const text = el.querySelector('.value-' + name);
            out[name] = thumb ? [thumb.getAttribute('aria-valuenow'), text ? text.innerText : null]
                              : [box.checked, text ? text.innerText : null];
        }
        return out; }""")
    settings: dict[str, float | bool] = {}
    for name, (value, text) in values.items():
        if name.startswith("rule_"):
            settings[name] = bool(value)
            assert text == ("on" if value else "off"), (name, value, text)
            continue
        settings[name] = float(value)
        assert text is not None and float(text.split()[0]) == float(value), (name, value, text)
    listed = page.locator(".control-events").inner_text().split(":", 1)[1].strip()
    events = () if listed == "none" else tuple(e.strip() for e in listed.split(","))
    return settings, events


def _params_of(settings: dict, events: tuple[str, ...]) -> tuple[Params, int]:
    """Params and seed from displayed values, built here without the app's own conversion."""
    values = {s.name: (int(settings[s.name]) if s.type is int else settings[s.name])
              for s in Params.schema() if s.name in settings}
    values["disabled"] = tuple(r for r in RULE_IDS if not settings[f"rule_{r}"])
    values["events"] = tuple(e for e in events if int(e.split("@")[1].split("=")[0]) <= values["horizon"])
    return Params.from_dict(values), int(settings["seed"])


def _assert_app_equals_model(page, params: Params, seed: int) -> int:
    """The figures on screen equal AllianceModel's, both modes, at the month shown. Returns the month."""
    _settled(page)
    month, shown = _figures(page)
    assert _month(page) == (month, params.horizon)
    assert shown == _fresh_outcomes(params, seed, month), f"app differs from AllianceModel({params}, seed={seed})"
    return month


def _assert_offline_and_clean(page, app_server: dict) -> None:
    local = ("127.0.0.1", "localhost")
    outside = [u for u in page.requests
               if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname not in local]
    assert outside == [], f"requests left the machine: {outside}"
    assert page.errors == [], f"browser console errors: {page.errors}"
    assert page.get_by_text("Traceback").count() == 0, "the app shows a Python traceback"
    log = app_server["log"].read_text()
    assert "Could not load URL" not in log, f"the server tried to fetch from a CDN:\n{log[-2000:]}"
    assert "Traceback" not in log, f"the server logged an error:\n{log[-3000:]}"


def _start(page) -> None:
    """A fresh page shows the default preset at month 0 (a new session: nothing carried over)."""
    from playwright.sync_api import expect

    _wait_month(page, 0)
    expect(page.locator(".figures-table")).to_be_attached()
    expect(page.locator(".chart img")).to_have_count(5)


SCREENSHOTS = ROOT / "results" / "screenshots"


# --- the app in a browser: tests ------------------------------------------------------------------------
@pytest.mark.browser
def test_first_render_named_tabs_grouped_controls_no_dev_controls(page, app_server: dict) -> None:
    from playwright.sync_api import expect

    from sim.app.teaching import GROUP_TITLES, PRESETS, TABS, slider_fields

    _start(page)
    first_render = time.perf_counter() - app_server["started"]
    for tab in TABS:
        expect(page.get_by_role("tab", name=tab)).to_be_visible()
    for text in ("Page 0", "Page 1", "Play Interval", "Render Interval", "Use Threads", "ipt1 strength"):
        assert page.get_by_text(text, exact=False).count() == 0, f"{text!r} is on the page"
    for preset in PRESETS.values():
        expect(page.locator(f".preset-{preset.name}")).to_have_text(preset.title)
    for title in GROUP_TITLES.values():
        expect(page.locator(".v-expansion-panel-header", has_text=title)).to_be_visible()
    # context and choices open, with label, value and unit and the meaning; assumptions and scale closed
    for s in slider_fields():
        control = page.locator(f".ctl-{s.name}")
        if s.group in ("context", "lever"):
            expect(control).to_contain_text(s.label)
            expect(control.locator(f".value-{s.name}")).to_have_text(f"{s.default:g} {s.unit}".strip())
            expect(control.locator(".control-help")).to_have_text(s.meaning)
            expect(control.locator(".v-slider")).to_be_visible()
        else:
            expect(control.locator(".v-slider")).not_to_be_visible()
    # nothing sits on a chart or the figures: Solara's corner banner is off (scripts/app.sh), charts apart
    assert page.get_by_text("This website runs on").count() == 0
    boxes = [*(page.locator(".chart img").nth(i).bounding_box() for i in range(5)),
             page.locator(".figures-table").bounding_box()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a and b:
                overlap = (min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"]) > 1 and
                           min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"]) > 1)
                assert not overlap, (a, b)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".step").click()
    _wait_month(page, 1)
    for tab in TABS:
        page.get_by_role("tab", name=tab).click()
        marker = {"Compare": ".figures-table", "A person's journey": ".journey-alliance", "Guide": ".guide h1",
                  "Parameters": ".parameters table"}[tab]
        expect(page.locator(marker).first).to_be_visible()
        if tab == "Compare":
            expect(page.locator(".chart img")).to_have_count(5)
        page.screenshot(path=str(SCREENSHOTS / f"tab_{tab.split()[-1].lower()}.png"))
    _assert_offline_and_clean(page, app_server)
    print(f"first render {first_render:.1f} s after the launch command")


#: Sequences of random actions in the property test (APP_PROPERTY_SEQUENCES to change; each ends with a check).
PROPERTY_SEQUENCES = int(os.environ.get("APP_PROPERTY_SEQUENCES", "6"))
ACTIONS = ("preset", "slider", "slider", "switch", "reset", "step", "step", "play", "shock")


def _act(page, rng, action: str) -> str:
    """One user action, then a wait for the state it must lead to; returns what it did."""
    from playwright.sync_api import expect

    from sim.app.teaching import PRESETS, SHOCKS, slider_fields

    month, horizon = _month(page)
    if action == "preset":
        name, old = rng.choice(list(PRESETS)), _run_id(page)
        page.locator(f".preset-{name}").click()
        _settled(page, old)
        _wait_month(page, 0)
        expect(page.locator(".changed-flag")).to_have_count(0)
        expect(page.locator(f".preset-{name}")).not_to_have_class(re.compile("v-btn--outlined"))
        return f"preset {name}"
    elif action == "slider":
        spec = rng.choice([s for s in slider_fields()])
        thumb = page.locator(f".ctl-{spec.name} [role=slider]")
        # sizes and the horizon move a notch at a time (a 600-month run of 100 providers is not a test)
        keys = ("ArrowRight", "ArrowLeft") if spec.group == "scale" else ("ArrowRight", "ArrowLeft", "PageUp",
                                                                           "PageDown", "Home", "End")
        thumb.focus()
        for _ in range(rng.randint(1, 3)):
            thumb.press(rng.choice(keys))
        value = thumb.get_attribute("aria-valuenow")
        expect(page.locator(f".value-{spec.name}")).to_have_text(re.compile(rf"^{re.escape(f'{float(value):g}')}( |$)"))
        return f"{spec.name} -> {value}"
    elif action == "switch":
        rule = rng.choice(RULE_IDS)
        box = page.locator(f".ctl-rule_{rule} input")
        checked = box.is_checked()
        page.locator(f".ctl-rule_{rule} .v-input--selection-controls__ripple").click()
        expect(box).to_be_checked(checked=not checked)
        expect(page.locator(f".value-rule_{rule}")).to_have_text("off" if checked else "on")  # the server has it
        return f"{rule} {'off' if checked else 'on'}"
    elif action == "reset":
        old = _run_id(page)
        page.locator(".reset").click()
        _settled(page, old)
        _wait_month(page, 0)
        expect(page.locator(".changed-flag")).to_have_count(0)
    elif action == "step" and month < horizon:
        page.locator(".step").click()
        _wait_month(page, month + 1)
    elif action == "play" and month < horizon:
        page.locator(".play").click()
        target = min(month + rng.randint(2, 8), horizon)
        expect(page.locator(".month-counter")).to_have_text(
            re.compile("^Month (" + "|".join(str(m) for m in range(target, horizon + 1)) + r") of \d+$"))
        # pause, unless playback has ended meanwhile (one step in the page, so no race with the end)
        page.locator(".play").evaluate("b => { if (b.innerText.includes('Pause')) b.click(); }")
        _wait_idle(page)
    elif action == "shock" and month < horizon:
        kind, old = rng.choice(list(SHOCKS)), _run_id(page)
        page.locator(f".shock-{kind}").click()
        _settled(page, old)
        expect(page.locator(".run-events")).to_contain_text(f"{kind}@{month + 1}")
        expect(page.locator(".control-events")).to_contain_text(f"{kind}@{month + 1}")
    return f"{action} at month {month}"


def _check_world(page) -> None:
    """The property: the runs on screen are what the run panel says they are; they equal the controls unless the
    'changed' flag is shown; and after Reset they equal the controls."""
    from playwright.sync_api import expect

    settings, events = _displayed(page)
    shown_params, shown_seed = _params_of(settings, events)
    run_params, run_seed = _parse_overrides(page.locator(".run-overrides").inner_text())
    pending = page.locator(".changed-flag").count() > 0
    same = (shown_params, shown_seed) == (run_params, run_seed)
    assert pending != same, f"changed flag {pending}, but controls {shown_params} vs run {run_params}"
    _assert_app_equals_model(page, run_params, run_seed)
    if not pending:
        _assert_app_equals_model(page, shown_params, shown_seed)
    else:
        old = _run_id(page)
        page.locator(".reset").click()
        _settled(page, old)
        _wait_month(page, 0)
        expect(page.locator(".changed-flag")).to_have_count(0)
        _assert_app_equals_model(page, shown_params, shown_seed)


@pytest.mark.browser
def test_presets_and_reset_always_do_what_they_show(page, app_server: dict) -> None:
    """Property-style: random sequences of preset, slider, switch, Reset, Step, Play and shock; after each the
    app's figures are compared with AllianceModel built from the values the page displays."""
    import random

    rng = random.Random(int(os.environ.get("APP_PROPERTY_SEED", "2026")))
    _start(page)
    _open_all_groups(page)
    done: list[str] = []
    for _ in range(PROPERTY_SEQUENCES):
        actions = [rng.choice(ACTIONS) for _ in range(rng.randint(3, 6))]
        for action in actions:
            done.append(_act(page, rng, action))
        try:
            _check_world(page)
        except AssertionError as err:
            raise AssertionError(f"after the actions {done}: {err}") from None
        done.append("check")
    print(f"{PROPERTY_SEQUENCES} random sequences checked")
    _assert_offline_and_clean(page, app_server)


@pytest.mark.browser
def test_a_preset_after_the_end_plays_again_from_month_0(page, app_server: dict) -> None:
    from playwright.sync_api import expect

    _start(page)
    page.locator(".play").click()
    _wait_month(page, 60)
    _wait_idle(page)
    expect(page.locator(".play")).to_be_disabled()
    expect(page.locator(".step")).to_be_disabled()
    old = _run_id(page)
    page.locator(".preset-no_senior_buy_in").click()
    _settled(page, old)
    _wait_month(page, 0)
    expect(page.locator(".play")).to_be_enabled()
    expect(page.locator(".step")).to_be_enabled()
    expect(page.locator(".value-senior_commitment")).to_have_text("0 index")
    expect(page.locator(".run-summary")).to_contain_text("Senior leaders' commitment 0 index")
    page.locator(".step").click()
    _wait_month(page, 1)
    _assert_app_equals_model(page, Params(senior_commitment=0.0), 7)
    _assert_offline_and_clean(page, app_server)


@pytest.mark.browser
def test_shocks_hit_both_runs_and_are_listed_for_a_rerun(page, app_server: dict) -> None:
    from playwright.sync_api import expect

    _start(page)
    for k in (1, 2):
        page.locator(".step").click()
        _wait_month(page, k)
    expected = []
    for kind, event in (("leadership_change", "leadership_change@3=0.1"), ("provider_exit", "provider_exit@4"),
                        ("budget_cut", "budget_cut@5=0.2"), ("demand_surge", "demand_surge@6=0.3")):
        sources = page.locator(".chart-fragmentation img").get_attribute("src")
        page.locator(f".shock-{kind}").click()
        expected.append(event)
        expect(page.locator(".run-events")).to_have_text(f"Events in these runs: {', '.join(expected)}")
        expect(page.locator(".run-overrides")).to_contain_text(f"params.events=[{','.join(expected)}]")
        month = _month(page)[0]
        page.locator(".step").click()
        _wait_month(page, month + 1)
        expect(page.locator(".chart-fragmentation img")).not_to_have_attribute("src", sources)  # redrawn, marked
    expect(page.locator(".changed-flag")).to_have_count(0)  # the controls' list has the shocks too
    _assert_app_equals_model(page, Params(events=tuple(expected)), 7)
    _assert_offline_and_clean(page, app_server)


@pytest.mark.browser
def test_a_persons_journey_is_one_of_the_walks_episodes(page, app_server: dict) -> None:
    from playwright.sync_api import expect

    from sim.analysis.journeys import pick_episode, replay
    from sim.app.teaching import Preset, TwinModel, preset_settings

    _start(page)
    page.get_by_role("tab", name="A person's journey").click()
    expect(page.get_by_text("Press Step")).to_be_visible()
    for k in (1, 2, 3):
        page.locator(".step").click()
        _wait_month(page, k)
    model = TwinModel(**preset_settings(Preset("d", "")))
    for _ in range(3):
        model.step()
    for person in range(3):
        if person:
            page.locator(".another-person").click()
        episode = pick_episode(model.recorders["alliance"].inputs[0], person)
        expect(page.locator(".journey-title")).to_have_text(
            f"Month 3, locality 1, person {episode + 1} of 12 sampled this month.")
        for mode in ("alliance", "traditional"):
            journey = replay(model.recorders[mode].inputs[0], episode)
            shown = page.locator(f".journey-{mode}")
            for attribute, value in (("handoffs", journey.handoffs), ("lost", journey.lost),
                                     ("repeated", journey.repeated), ("providers", journey.providers)):
                expect(shown).to_have_attribute(f"data-{attribute}", str(value))
            expect(shown.locator(".journey-contact")).to_have_count(len(journey.contacts))
    _assert_offline_and_clean(page, app_server)


# --- the guide's numbers (docs/teaching.md) -------------------------------------------------------------
def _teaching_numbers():
    """scripts/teaching_numbers.py as a module (the guide's tables and the runs behind them)."""
    import importlib.util

    name = "teaching_numbers_script"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "teaching_numbers.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the file runs
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_every_number_in_the_teaching_guide_comes_from_model_runs() -> None:
    tn = _teaching_numbers()
    text = tn.GUIDE.read_text()
    found = tn.guide_tables(text)
    assert set(found) == set(tn.TABLES), "every table of the guide is made by scripts/teaching_numbers.py"
    for name in tn.TABLES:
        assert found[name] == tn.table_markdown(name), f"docs/teaching.md table {name!r}: run the script with --write"
    # outside the tables the guide quotes no result, only settings (months, values to set) and the seed
    prose = tn.BLOCK.sub("", text)
    results = re.findall(r"(?<![\w@=.])0\.\d\d(?!\d)", prose)
    assert results == [], f"numbers in the guide's prose that no table checks: {results}"
    # the exercises the guide must have
    assert "talking shop" in text.lower() and "## Exercise 3. A leadership shock" in text


def _run_to(page, month: int) -> None:
    from playwright.sync_api import expect

    if _month(page)[0] == month:
        return
    field = page.locator(".run-to-month input")
    field.fill(str(month))
    field.press("Enter")
    expect(page.locator(".run-to")).to_be_enabled()
    page.locator(".run-to").click()
    _wait_month(page, month)
    _wait_idle(page)
    _settled(page)


@pytest.mark.browser
def test_the_guides_numbers_are_what_the_app_shows(page, app_server: dict) -> None:
    """Each exercise done in the app as the guide says (preset, switches, a slider to its end, Reset, a shock
    pressed the month before it hits, Run to month): the figures table shows the guide's seed-7 numbers."""
    from playwright.sync_api import expect

    from sim.app.teaching import PRESETS, SHOCKS
    from sim.params import THEORY_RULES
    from sim.params.events import parse_event

    tn = _teaching_numbers()
    guide = tn.guide_tables(tn.GUIDE.read_text())
    wanted: dict = {}  # scenario -> month -> [(row, printed value)]
    for name, table in tn.TABLES.items():
        lines = guide[name].splitlines()[2:]
        for row, line in zip(table.rows, lines, strict=True):
            cells = [c.strip() for c in line.strip("|").split("|")]
            assert cells[0] == row.label
            for month, printed in zip(table.months, cells[1:], strict=False):
                wanted.setdefault(row.scenario, {}).setdefault(month, []).append((row, printed))
    _start(page)
    _open_all_groups(page)
    checked = 0
    for scenario, months in wanted.items():
        old = _run_id(page)
        preset = PRESETS[scenario.preset]
        page.locator(f".preset-{preset.name}").click()
        _settled(page, old)
        for key, value in scenario.changes:
            if key == "disabled":
                for rule in (r for d in value for r in THEORY_RULES.get(d, (d,))):
                    page.locator(f".ctl-rule_{rule} .v-input--selection-controls__ripple").click()
                    expect(page.locator(f".value-rule_{rule}")).to_have_text("off")
            else:
                spec = Params.spec(key)
                assert value in (spec.low, spec.high), "the guide moves sliders to an end only"
                thumb = page.locator(f".ctl-{key} [role=slider]")
                thumb.focus()
                thumb.press("End" if value == spec.high else "Home")
                expect(page.locator(f".value-{key}")).to_have_text(re.compile(rf"^{value:g}( |$)"))
        if scenario.changes:
            old = _run_id(page)
            page.locator(".reset").click()
            _settled(page, old)
        shocks = sorted(parse_event(e, 10**9) for e in scenario.shocks)
        for month in sorted(months):
            for shock in [s for s in shocks if s.month <= month]:
                assert SHOCKS[shock.kind][1] in (shock.value, None), "the guide's shocks use the panel's values"
                _run_to(page, shock.month - 1)
                old = _run_id(page)
                page.locator(f".shock-{shock.kind}").click()
                _settled(page, old)
                shocks.remove(shock)
            if month > _month(page)[0]:
                _run_to(page, month)
            shown_month, shown = _figures(page)
            assert shown_month == month
            for row, printed in months[month]:
                value = shown[row.mode][row.outcome]
                assert f"{value:.2f}" == printed, (row.label, month, value, printed)
                assert value == tn.seed7(row, (month,))[0]
                checked += 1
    print(f"{checked} numbers of the guide read from the app")
    _assert_offline_and_clean(page, app_server)
