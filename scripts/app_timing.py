"""Time the teaching app: launch command -> first render, playback of a whole run, a Step click, and the server side.

Usage: python scripts/app_timing.py [--steps 10] [--chromium /usr/bin/chromium] [--no-browser]

Prints, as JSON: seconds from running ``scripts/app.sh`` to the first HTTP 200 and to the first full render in
Chromium (month counter, all five charts and the figures table shown); from pressing Play at month 0 to the
counter and the figures table showing the horizon (60 months at the default settings); of a Step click until the
counter and charts have updated (end to end); and, server side, a step of the two models alone and with every
chart drawn. Run it on a quiet machine and under load (e.g. ``yes > /dev/null &`` beside it) to see both.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def server_side(steps: int) -> dict[str, float]:
    from sim.app.components import locality_figure, network_figure, outcome_figure
    from sim.app.teaching import PRESETS, TwinModel, preset_settings

    model = TwinModel(**preset_settings(PRESETS["default"]))
    t = time.perf_counter()
    for _ in range(steps):
        model.step()
    models_only = (time.perf_counter() - t) / steps
    t = time.perf_counter()
    for _ in range(steps):
        model.step()
        for fig in (outcome_figure(model, "fragmentation"), outcome_figure(model, "access"),
                    network_figure(model), locality_figure(model), outcome_figure(model, "mean_trust")):
            fig.savefig(io.BytesIO(), format="png")
    drawn = (time.perf_counter() - t) / steps
    return {"step_two_models_s": models_only, "step_with_all_charts_drawn_s": drawn}


def _month(page, n: int):
    import re

    return page.locator(".month-counter").filter(has_text=re.compile(rf"^Month {n} of \d+$"))


def browser_side(steps: int, chromium: str) -> dict[str, float]:
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "PYTHON": sys.executable, "PORT": str(port)}
    with sync_playwright() as pw, tempfile.TemporaryFile() as log:
        browser = pw.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1600, "height": 1300})
        expect.set_options(timeout=120_000)
        started = time.perf_counter()
        proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "app.sh")], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=2):
                        break
                except OSError:
                    if proc.poll() is not None:
                        raise SystemExit("app server exited") from None
                    time.sleep(0.1)
            http_ok = time.perf_counter() - started
            page.goto(url)
            expect(_month(page, 0)).to_be_visible()
            expect(page.locator(".chart img")).to_have_count(5)
            expect(page.locator(".figures-table")).to_be_attached()
            first_render = time.perf_counter() - started
            horizon = int(page.locator(".month-counter").inner_text().split()[-1])
            t = time.perf_counter()
            page.locator(".play").click()
            expect(_month(page, horizon)).to_be_visible()
            expect(page.locator(f".figures-table[data-month='{horizon}']")).to_be_attached()
            playback = time.perf_counter() - t
            page.locator(".reset").click()
            expect(_month(page, 0)).to_be_visible()
            imgs = page.locator(".chart img")
            t = time.perf_counter()
            for k in range(1, steps + 1):
                old = imgs.nth(0).get_attribute("src")
                page.locator(".step").click()
                expect(_month(page, k)).to_be_visible()
                expect(imgs.nth(0)).not_to_have_attribute("src", old)
            per_click = (time.perf_counter() - t) / steps
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
            browser.close()
    return {"launch_to_http_200_s": http_ok, "launch_to_first_render_s": first_render,
            f"playback_{horizon}_months_s": playback, "step_click_to_updated_charts_s": per_click}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--no-browser", action="store_true", help="server-side figures only")
    args = ap.parse_args()
    result = {} if args.no_browser else browser_side(args.steps, args.chromium)
    result.update(server_side(args.steps))
    print(json.dumps({k: round(v, 4) for k, v in result.items()}, indent=1))


if __name__ == "__main__":
    main()
