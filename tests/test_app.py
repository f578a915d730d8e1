"""The teaching app (sim/app/teaching.py): controls derived from the schema, presets, and the app in a real browser.

The browser tests start ``scripts/app.sh`` (the documented launcher, with the offline asset cache) on a
free port of 127.0.0.1 and drive Debian's Chromium with Playwright. They skip only when no Chromium
executable exists and the CI variable is not set; in CI a missing browser is a failure.
"""

from __future__ import annotations

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
def test_every_numeric_field_has_a_slider_with_the_schema_range() -> None:
    from sim.app.teaching import SLIDER_GROUPS, control_specs

    controls = control_specs()
    numeric = [s for s in Params.schema() if s.type in (int, float)]
    assert {s.group for s in numeric} <= set(SLIDER_GROUPS)
    for s in numeric:
        c = controls[s.name]
        assert c["type"] == ("SliderInt" if s.type is int else "SliderFloat"), s.name
        assert (c["min"], c["max"], c["value"]) == (s.low, s.high, s.default), s.name
        assert (s.high - s.low) / 100 <= c["step"] <= (s.high - s.low) / 40 or s.type is int, s.name
        _assert_on_grid(s.name, s.default, c)
    # context and lever, the groups a class plays with, are all there
    for group in ("context", "lever"):
        assert all(s.name in controls for s in numeric if s.group == group)


def _assert_on_grid(name: str, value: float, control: dict) -> None:
    # Vuetify snaps a slider to min + k * step when it is shown: a value off that grid would change.
    k = (value - control["min"]) / control["step"]
    assert abs(k - round(k)) < 1e-6, f"{name}={value} is not on its slider's grid (step {control['step']})"


def test_preset_values_are_on_the_slider_grid() -> None:
    from sim.app.teaching import control_specs, load_presets, preset_settings

    controls = control_specs()
    for preset in load_presets().values():
        for name, value in preset_settings(preset).items():
            if isinstance(controls[name], dict) and controls[name]["type"].startswith("Slider"):
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
    (tmp_path / "bad.yaml").write_text("params:\n  initial_trust: 7\n")  # out of range: left out
    presets = load_presets(tmp_path)
    assert list(presets) == ["default", "a"] and presets["a"].description == "A test"
    settings = preset_settings(presets["a"])
    assert settings["initial_trust"] == 0.2 and settings[RULE_KEY + "IPT6"] is False
    assert list(load_presets(tmp_path / "missing")) == ["default"]


def test_repository_presets_all_load() -> None:
    from sim.app.teaching import load_presets

    folder = ROOT / "sim" / "conf" / "scenario"
    presets = load_presets(folder)
    assert "default" in presets
    assert len(presets) - 1 == len([p for p in folder.glob("*.yaml") if p.stem != "default"])


def test_twins_differ_only_in_commissioning_and_stop_at_horizon() -> None:
    from sim.app.teaching import Preset, TwinModel, preset_settings

    model = TwinModel(**{**preset_settings(Preset("d", "")), "horizon": 4, "seed": 3})
    a, t = model.alliance.params.to_dict(), model.traditional.params.to_dict()
    assert {k for k in a if a[k] != t[k]} == {"commissioning"}
    assert model.alliance.scenario_seed == model.traditional.scenario_seed == 3
    for _ in range(6):
        model.step()
    assert model.alliance.month == model.traditional.month == 4 and not model.running


def test_figures_draw() -> None:
    from sim.app.components import locality_figure, network_figure, outcome_figure
    from sim.app.teaching import Preset, TwinModel, preset_settings

    model = TwinModel(**{**preset_settings(Preset("d", "")), "n_providers": 6})
    model.step()
    for fig in (outcome_figure(model, "fragmentation"), outcome_figure(model, "value"),
                network_figure(model, "sector"), network_figure(model, "commitment"), locality_figure(model)):
        fig.savefig(io.BytesIO(), format="png")


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


def _counter(page, n: int):
    return page.get_by_text(re.compile(rf"^Time: {n}(\.0)?$"))


def _thumb(page, label: str):
    # Vuetify hides its sliders from get_by_role("slider"); the thumb inside the labelled input is reachable.
    return page.locator(".v-input", has=page.get_by_text(label, exact=True)).locator("[role=slider]")


def _charts(page) -> list[bytes]:
    from playwright.sync_api import expect

    imgs = page.locator(".vue-grid-item img")
    # fragmentation, access, network, localities and outcome charts
    expect(imgs).to_have_count(5)
    return [imgs.nth(i).screenshot() for i in range(2)]  # fragmentation, access


def _chart_sources(page) -> list[str]:
    imgs = page.locator(".vue-grid-item img")
    return [imgs.nth(i).get_attribute("src") or "" for i in range(2)]


def _wait_for_new_charts(page, old: list[str]) -> None:
    """Wait until both time-series charts are re-drawn (their image data differs from ``old``)."""
    page.wait_for_function(
        """old => { const imgs = document.querySelectorAll('.vue-grid-item img');
                    return imgs.length === 5 && imgs[0].src !== old[0] && imgs[1].src !== old[1]; }""",
        arg=old, timeout=STATE_TIMEOUT)


def _assert_offline_and_clean(page, app_server: dict) -> None:
    local = ("127.0.0.1", "localhost")
    outside = [u for u in page.requests
               if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname not in local]
    assert outside == [], f"requests left the machine: {outside}"
    assert page.errors == [], f"browser console errors: {page.errors}"
    assert page.get_by_text("Traceback").count() == 0, "the app shows a Python traceback"
    log = app_server["log"].read_text()
    assert "Could not load URL" not in log, f"the server tried to fetch from a CDN:\n{log[-2000:]}"


@pytest.mark.browser
def test_reset_slider_step_updates_counter_and_both_charts(page, app_server: dict) -> None:
    from playwright.sync_api import expect

    expect(_counter(page, 0)).to_be_visible(timeout=60_000)
    first_render = time.perf_counter() - app_server["started"]
    page.get_by_role("button", name="Reset").click()
    expect(_counter(page, 0)).to_be_visible()

    thumb = _thumb(page, "senior commitment")
    expect(thumb).to_have_attribute("aria-valuenow", "0.7")
    thumb.focus()
    thumb.press("Home")
    expect(thumb).to_have_attribute("aria-valuenow", "0")
    page.get_by_role("button", name="Reset").click()  # sliders take effect on reset
    expect(page.get_by_text(re.compile("Changed from the defaults in these runs: senior commitment 0\\b"))
           ).to_be_visible()
    before = _charts(page)
    sources = _chart_sources(page)

    for k in range(1, 6):
        page.get_by_role("button", name="Step").click()
        expect(_counter(page, k)).to_be_visible()
    _wait_for_new_charts(page, sources)  # the figures arrive just after the counter
    after = _charts(page)
    assert before[0] != after[0], "fragmentation chart did not change after stepping"
    assert before[1] != after[1], "access chart did not change after stepping"

    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    page.screenshot(path=str(out / "app_screenshot.png"), full_page=True)
    _assert_offline_and_clean(page, app_server)
    print(f"first render {first_render:.1f} s after the launch command")


@pytest.mark.browser
def test_preset_moves_the_sliders_and_resets(page, app_server: dict) -> None:
    from playwright.sync_api import expect

    from sim.app.teaching import control_specs, load_presets, preset_settings

    expect(_counter(page, 0)).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Step").click()
    expect(_counter(page, 1)).to_be_visible()
    presets = load_presets()
    if "no_senior_buy_in" in presets:
        name, label, value = "no_senior_buy_in", "senior commitment", "0"
    else:  # the presets folder may change: use any preset that moves a slider
        name = next(n for n, p in presets.items() if any(k in control_specs() for k in p.params))
        key = next(k for k in presets[name].params if k in control_specs())
        label, value = key.replace("_", " "), f"{preset_settings(presets[name])[key]:g}"
    page.locator(f".preset-{name}").click()
    expect(_counter(page, 0)).to_be_visible()
    expect(_thumb(page, label)).to_have_attribute("aria-valuenow", value)
    page.locator(".preset-default").click()
    expect(_thumb(page, "senior commitment")).to_have_attribute("aria-valuenow", "0.7")
    _assert_offline_and_clean(page, app_server)
