"""The advisory-group report (sim/report/advisory.py): built from a real small study by the main job.

One session fixture runs the smoke study through the Hydra entry point with ``report=true`` (about 25 s),
so the main job's call to ``write_report`` is exercised too. The summary's claims are checked against the
CSVs independently of ``summary_facts``. The browser test drives Debian's Chromium with Playwright; it
skips only when no Chromium exists and the CI variable is not set (in CI a missing browser is a failure).
"""

from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import run_entry

from sim.report.advisory import param_label, summary_facts

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGE_ONE = ("What this means for us", "When an alliance did worse", "Your local context", "Choices you control",
            "What the model is unsure of", "not a forecast")
METHOD_WORDS = ("Sobol", "index", "indices", "PRIM", "base points", "decision tree", "noise", "interval", "Morris",
                "CART", "replicate", "sample size")
HEADINGS = (*PAGE_ONE[:-1], "Summary", "What mattered most", "When alliances did best", "Results in figures",
            "Which factors matter most", "Methods appendix", "Parameters and the ranges used",
            "Convergence and noise", "Software and provenance", "Limitations")


@pytest.fixture(scope="session")
def html(study: Path) -> str:
    return (study / "report.html").read_text(encoding="utf-8")


class _Page(HTMLParser):
    """Collects images, links, headings and the text of the summary section."""

    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[dict[str, str]] = []
        self.urls: list[str] = []
        self.headings: list[tuple[int, str]] = []
        self.tags: list[str] = []
        self._heading: list | None = None
        self._section: list[str] = []
        self.summary = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "img":
            self.imgs.append({k: v or "" for k, v in a.items()})
        for key in ("src", "href", "data", "poster"):
            if key in a:
                self.urls.append(a[key] or "")
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), ""]
        if tag == "section":
            self._section.append(a.get("id", ""))

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag) and self._heading:
            self.headings.append((self._heading[0], self._heading[1].strip()))
            self._heading = None
        if tag == "section" and self._section:
            self._section.pop()

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading[1] += data
        if "summary" in self._section or "meaning" in self._section:
            self.summary += data


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _summary_text(html: str) -> str:
    return re.sub(r"\s+", " ", _parse(html).summary)


def _tables(study: Path) -> dict:
    config = yaml.safe_load((study / "config.yaml").read_text())
    primary = config["study"]["outcomes"][0]
    sobol = pd.read_csv(study / "sobol.csv")
    full = sobol[(sobol["outcome"] == primary) & (sobol["N"] == sobol["N"].max())]
    return {"config": config, "primary": primary, "sobol": full.sort_values("ST", ascending=False)}


# --- files and PDF ----------------------------------------------------------------------------------------
def test_main_job_writes_html_and_pdf(study: Path) -> None:
    for name in ("report.html", "report.pdf"):
        assert (study / name).stat().st_size > 20_000, name
    assert not list(study.parent.glob(".smoke.tmp-*")), "the temporary folder should have been renamed"


def test_pdf_has_a_one_page_summary_and_every_section(study: Path) -> None:
    from pypdf import PdfReader

    reader = PdfReader(study / "report.pdf")
    assert len(reader.pages) > 1
    texts = [re.sub(r"\s+", " ", p.extract_text() or "") for p in reader.pages]
    everything = " ".join(texts)
    for heading in HEADINGS:
        assert heading in everything, heading
    # page 1 speaks to commissioners, in plain words; the summary follows on page 2; the page is A4 (595 x 842 pt)
    for words in PAGE_ONE:
        assert words in texts[0], words
    for words in METHOD_WORDS:
        assert words.lower() not in texts[0].lower(), words
    assert "What mattered most" in texts[1] and "What this means for us" not in texts[1]
    assert "Results in figures" not in texts[1] and "Results in figures" in texts[2]
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 2 and abs(float(box.height) - 841.9) < 2


# --- the summary's claims against the tables -------------------------------------------------------------
def test_most_influential_factor_is_the_top_of_the_total_effect_table(study: Path, html: str) -> None:
    t = _tables(study)
    top = t["sobol"]["parameter"].iloc[0]
    facts = summary_facts(study)
    assert facts["most_influential"]["parameter"] == top
    assert [r["parameter"] for r in facts["ranking"]] == t["sobol"]["parameter"].tolist()
    text = _summary_text(html)
    assert f"mattered most for the {facts['primary_label']} was {param_label(top)}" in text


def test_quoted_numbers_equal_the_csv_values_as_rounded(study: Path, html: str) -> None:
    t = _tables(study)
    text = _summary_text(html)
    facts = summary_facts(study)
    quoted = {q["key"]: q for q in facts["quoted"]}
    # recomputed here from the CSVs, not taken from summary_facts
    top = t["sobol"].iloc[0]
    prim = pd.read_csv(study / "prim_stats.csv").sort_values("box").iloc[0]
    ablation = pd.read_csv(study / "ablation.csv").set_index(["disabled", "outcome"])
    series = pd.read_csv(study / "timeseries_summary.csv").set_index("outcome")
    convergence = pd.read_csv(study / "convergence.csv").set_index("outcome")
    outcome = t["primary"].rsplit("_", 1)[0]
    expected = {
        "top_ST": f"{top['ST']:.2f}",
        "box1_coverage": f"{100 * prim['coverage']:.0f}%",
        "box1_density": f"{100 * prim['density']:.0f}%",
        "base_rate": f"{100 * prim['base_rate']:.0f}%",
        "ablation_IPT6": f"{abs(ablation.loc[('IPT6', t['primary']), 'change']):.2f}",
        "default_alliance": f"{series.loc[outcome, 'alliance_mean']:.2f}",
        "default_traditional": f"{series.loc[outcome, 'traditional_mean']:.2f}",
        "convergence_change": f"{convergence.loc[t['primary'], 'max_abs_change_ST']:.3f}",
    }
    # page 1's numbers: the failure regions, the resilience under shocks, the lever that helped most
    regions = pd.read_csv(study / "failure_regions.csv")
    worse = regions[regions["question"] == "worse_fragmentation"].sort_values("box").iloc[0]
    resilience = pd.read_csv(study / "resilience.csv").set_index(["preset", "commissioning"])
    depth = resilience["depth"].unstack()
    shock = (depth["alliance"] - depth["traditional"]).idxmax()
    levers = pd.read_csv(study / "robustness.csv").query("role == 'lever'")
    lever = levers.loc[levers["change"].abs().idxmax()]
    expected.update({
        "worse_fragmentation_rate": f"{100 * worse['base_rate']:.0f}%",
        "resilience_alliance": f"{depth.loc[shock, 'alliance']:.2f}",
        "resilience_traditional": f"{depth.loc[shock, 'traditional']:.2f}",
        "lever_change": f"{abs(lever['change']):.2f}",
    })
    for key, shown in expected.items():
        assert quoted[key]["shown"] == shown, (key, quoted[key], shown)
        assert shown in text, (key, shown)
    assert f"{top['ST']:.2f} of the variation" in text
    assert expected['ablation_IPT6'] in text and "senior commitment (IPT 6)" in text
    for q in facts["quoted"]:  # every number the facts claim to quote is in the summary
        assert q["shown"] in text, q


def test_alt_text_is_generated_from_the_numbers(study: Path, html: str) -> None:
    t = _tables(study)
    imgs = _parse(html).imgs
    sobol_alt = next(i["alt"] for i in imgs if "Sobol" in i["alt"])
    top = t["sobol"].iloc[0]
    assert f"{param_label(top['parameter'])}: total {top['ST']:.2f}" in sobol_alt


# --- self-contained, accessible HTML ---------------------------------------------------------------------
def test_html_is_self_contained_with_alt_text_and_heading_order(html: str) -> None:
    page = _parse(html)
    assert "script" not in page.tags and "iframe" not in page.tags
    assert all(u.startswith(("data:", "#")) for u in page.urls), [u[:60] for u in page.urls]
    assert not re.search(r"url\(\s*['\"]?(?!data:)", html), "CSS must not load files"
    assert len(page.imgs) == 8  # Sobol, Morris, heatmap, time series, ablation, failure regions, resilience, journeys
    for img in page.imgs:
        assert img["src"].startswith("data:image/png;base64,") and len(img["src"]) > 5000
        assert len(img.get("alt", "").strip()) > 40
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), page.headings
    titles = [title for _, title in page.headings]
    assert titles.index("Summary") < titles.index("Results in figures") < titles.index("Methods appendix")


def test_parameter_table_shows_the_ranges_used(study: Path, html: str) -> None:
    from sim.analysis.sensitivity import study_bounds

    config = yaml.safe_load((study / "config.yaml").read_text())
    bounds = study_bounds(config["study"]["parameters"] or None, config["study"]["narrow"])
    table = html[html.index('<table class="params">'):]
    table = table[: table.index("</table>")]
    for name, (low, high) in bounds.items():
        row = table[table.index(f"<code>{name}</code>"):]
        row = row[: row.index("</tr>")]
        assert f"{low:g} to {high:g}" in row, name
    assert "fixed at 10" in table  # n_providers is not varied


# --- the command line and partial folders ---------------------------------------------------------------
def test_cli_reports_a_folder_without_optional_files_and_refuses_a_bad_one(study: Path, tmp_path: Path) -> None:
    folder = tmp_path / "partial"
    shutil.copytree(study, folder, ignore=shutil.ignore_patterns("report.*", "morris*", "sobol_groups.csv",
                                                                 "cart*", "discovery_samples.parquet",
                                                                 "failure_regions*", "resilience*", "journeys*"))
    proc = run_entry("report", [str(folder)], tmp_path, timeout=120)  # a forked child (conftest.run_entry)
    assert proc.returncode == 0, proc.stderr[-2000:]
    page = _parse((folder / "report.html").read_text(encoding="utf-8"))
    assert len(page.imgs) == 4 and (folder / "report.pdf").stat().st_size > 10_000
    (tmp_path / "empty").mkdir()
    proc = run_entry("report", [str(tmp_path / "empty")], tmp_path, timeout=60)
    assert proc.returncode == 2
    assert "not a complete sensitivity study" in proc.stderr and "manifest.json" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- a real browser --------------------------------------------------------------------------------------
def _browser_or_skip() -> None:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"CI: Chromium not found at {CHROMIUM}; .ci/run should install it (apt-get install chromium)")
        pytest.skip("no Chromium executable (install with: apt-get install -y chromium); CI does not skip this")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("CI: playwright is not installed")
        pytest.skip("playwright (python) is not installed")


@pytest.mark.browser
def test_report_loads_in_chromium_offline_with_every_figure(study: Path, tmp_path: Path) -> None:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    url = (study / "report.html").resolve().as_uri()
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu",
                                                                    "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url[:80]}"))
            page.goto(url, wait_until="load")
            page.wait_for_load_state("networkidle")
            images = page.evaluate("""() => Array.from(document.images).map(i => ({
                alt: i.alt, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight,
                shown: i.getBoundingClientRect().width}))""")
            title = page.title()
            h1 = page.locator("h1").inner_text()
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert not errors, errors
    leaving = [u for u in requests if not (u.startswith("data:") or u == url)]
    assert not leaving, leaving
    assert len(images) == 8
    for img in images:
        assert img["complete"] and img["w"] > 0 and img["h"] > 0 and img["shown"] > 100, img
        assert img["alt"].strip(), img
    assert "Alliances" in title and "Alliances" in h1
    assert shot.stat().st_size > 50_000
    # keep the screenshot next to the study for a human to look at
    shutil.copy(shot, study / "report-screenshot.png")



def test_failure_sentences_read_as_plain_english(html: str) -> None:
    """A failure region's restrictions follow "in places with"; a region that restricts nothing is said to be
    spread over the ranges studied, never "mostly where anywhere in the ranges studied"."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "mostly where" not in text and "with anywhere" not in text
    assert "more fragmented than traditional commissioning in" in text
