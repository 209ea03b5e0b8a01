"""The overdue report (arrears-report, arrears/report/): one self-contained HTML file.

Uses the export tests' session dataset (demo data with hostile customer names, built once). The rendering
test opens the report in headless Chromium (Debian package `chromium`), takes a screenshot and looks for
each chart's own colours in it. Without /usr/bin/chromium that test is skipped, unless
ARREARS_REQUIRE_CHROMIUM=1 (CI) makes it fail.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import numpy as np
import pytest
from test_export import DEMO_GENERATOR, HOSTILE_NAMES, export_dataset

from arrears import report

from helpers import ROOT, Build

REPORT = ROOT / "scripts" / "report.py"
CHROMIUM = Path(os.environ.get("ARREARS_CHROMIUM", "/usr/bin/chromium"))
CHARTS = ("aging", "types", "roll_rates", "trend")


@pytest.fixture(scope="session")
def report_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    if not DEMO_GENERATOR.exists():
        pytest.skip("scripts/generate_demo_data.py is not part of this checkout yet")
    return export_dataset(tmp_path_factory)  # the same build as test_export.py's, made once per session


def run_report(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPORT), *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def report_file(report_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "nested" / "overdue_report.html"
    result = run_report("--db", report_build.db, "--out", out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


class _Assets(HTMLParser):
    """Every reference a browser would follow or fetch: URL attributes, CSS url()/@import, and the tags
    that load something."""

    URL_ATTRS = {"src", "href", "xlink:href", "srcset", "poster", "data", "action", "background", "formaction"}
    LOADING_TAGS = {"script", "link", "iframe", "object", "embed", "img", "video", "audio", "source", "base"}

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        if tag in self.LOADING_TAGS:
            self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in self.URL_ATTRS and value is not None:
                self.refs.append(value)
            if name == "style" and value:
                self.refs += re.findall(r"url\(([^)]*)\)", value)

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.refs += re.findall(r"url\(([^)]*)\)", data) + re.findall(r"@import\s+([^;]+)", data)


def test_report_is_self_contained(report_file: Path):
    # Would fail if the report needed the network (a CDN script, a web font, a linked image) to open.
    text = report_file.read_text(encoding="utf-8")
    parser = _Assets()
    parser.feed(text)
    external = [r for r in parser.refs if not r.strip().strip("'\"").startswith(("#", "data:"))]
    assert external == [], f"references a browser would fetch: {external}"
    assert parser.tags == [], f"tags that load content: {parser.tags}"
    assert not re.search(r"https?://", text), "an http(s) address in the report"
    assert "default-src 'none'" in text  # and the browser is told to fetch nothing
    for chart in CHARTS:
        assert re.search(rf'<svg[^>]*data-chart="{chart}"', text), f"chart {chart} missing"
    # No chart fell back to the "no data" placeholder on a dataset that has data for all of them.
    assert text.count("<path") > 50 and "No data." not in text


def test_report_content_and_escaping(report_build: Build, report_file: Path):
    # Would fail if a table lost its rows, or a customer name went into the page as live HTML.
    text = report_file.read_text(encoding="utf-8")
    assert report_build.as_of.isoformat() in text
    top = report_build.query("select customer_id from marts.mart_collection_strategy where list_type = 'overdue' "
                             "order by priority_rank limit 20")
    watch = report_build.query("select customer_id from marts.mart_watchlist order by priority_rank limit 20")
    for (cid,) in top + watch:
        assert f"<td>{cid}</td>" in text
    assert '<section class="card wide" id="watch">' in text and len(watch) > 0
    assert "<img" not in text  # the hostile '<img src=x onerror=...>' customer name is text, not a tag
    hostile = report_build.query("select customer_name from marts.mart_collection_strategy where list_type = "
                                 "'overdue' and customer_name like '<img%' and priority_rank <= 20")
    if hostile:
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert HOSTILE_NAMES[4].startswith("<img")


def report_main(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    """The CLI in this process (cheaper than a subprocess; report_file covers the script): exit code, stderr."""
    code = report.main([*map(str, args), "--quiet"])
    return code, capsys.readouterr().err


def test_report_in_chinese(report_build: Build, tmp_path: Path, capsys):
    # Would fail if --lang zh left English titles or garbled Chinese text.
    out = tmp_path / "report_zh.html"
    assert report_main(capsys, "--db", report_build.db, "--out", out, "--lang", "zh") == (0, "")
    text = out.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in text and "逾期客户报告" in text and "迁移率" in text
    assert "顽固性逾期" in text or "固有性逾期" in text


def test_report_errors(report_build: Build, tmp_path: Path, capsys):
    # Would fail if the report step gave a traceback instead of a clear message and its exit code.
    code, err = report_main(capsys, "--db", tmp_path / "nope.duckdb", "--out", tmp_path / "r.html")
    assert code == 2 and "does not exist" in err
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    code, err = report_main(capsys, "--db", empty, "--out", tmp_path / "r.html")
    assert code == 4 and "pipeline" in err
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code, err = report_main(capsys, "--db", report_build.db, "--out", blocker / "r.html")
    assert code == 6 and "cannot write" in err
    assert not list(tmp_path.glob("*.html")) and not list(tmp_path.glob(".*part*"))


# ----------------------------------------------------------------------------------------- Chromium

def _hex_rgb(color: str) -> np.ndarray:
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)


def _pixels_like(image: np.ndarray, colors, tolerance: int = 4) -> int:
    """How many pixels have one of `colors` (each channel within `tolerance` of 255)."""
    hits = np.zeros(image.shape[:2], dtype=bool)
    for color in colors:
        hits |= (np.abs(image - _hex_rgb(color)) <= tolerance).all(axis=-1)
    return int(hits.sum())


def chromium_screenshot(page: Path, tmp_path: Path, height: int = 2400) -> np.ndarray:
    """The page as headless Chromium draws it, 1280 pixels wide, as an RGB array of 0..255 (skips without
    Chromium unless ARREARS_REQUIRE_CHROMIUM=1)."""
    if not CHROMIUM.exists():
        if os.environ.get("ARREARS_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"{CHROMIUM} is missing and ARREARS_REQUIRE_CHROMIUM=1 (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium); CI sets ARREARS_REQUIRE_CHROMIUM=1")
    import matplotlib.image

    shot = tmp_path / "report.png"
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--force-color-profile=srgb", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
           f"--screenshot={shot}", f"--window-size=1280,{height}", page.resolve().as_uri()]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0 and shot.exists(), f"chromium exit {result.returncode}:\n{result.stderr[-2000:]}"
    image = (matplotlib.image.imread(str(shot))[..., :3] * 255).round().astype(np.int16)
    assert image.shape[:2] == (height, 1280)
    return image


def test_report_renders_in_headless_chromium(report_file: Path, tmp_path: Path):
    # Would fail if the charts did not render in a real browser (broken SVG, blocked content, blank page).
    image = chromium_screenshot(report_file, tmp_path)
    background = _pixels_like(image, ("#ffffff", "#f8f9fa"), tolerance=2)
    assert background < 0.95 * image.shape[0] * image.shape[1], "the page is (almost) blank"
    counts = {chart: _pixels_like(image, colors) for chart, colors in report.CHART_COLORS.items()}
    assert set(counts) == set(CHARTS)
    drawn = {chart: n for chart, n in counts.items() if n >= 400}
    assert drawn == counts, f"pixels in each chart's own colours (>= 400 expected): {counts}"
