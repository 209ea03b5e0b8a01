"""Data Docs that open without network access.

The committed GX project (`gx/great_expectations.yml`) is instantiated in `<docs-dir>/.gx/` with its site's
base_directory set to `<docs-dir>`: the suites and the latest result of each suite are stored there and the
site is built by GX (`context.build_data_docs()`). A docs folder therefore shows the latest result of every
suite ever validated into it (the pipeline's raw run and marts run land side by side); older results of a
suite are removed when a new one is stored.

GX's page templates load Bootstrap, jQuery, bootstrap-table, bootstrap-datepicker, Font Awesome and Vega
from CDNs and the logo from S3. After the build every page is rewritten to use the copies vendored in
`gx/static/vendor/` (copied to `<docs-dir>/static/vendor/`, see its README) and GX's own local images;
references with no local copy (the optional dark theme, Popper which the Bootstrap bundle includes, Vega
which only profiling charts use) are dropped or replaced by small stand-ins. `remote_asset_references()`
finds any left, and the build fails if one remains.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from arrears.atomic import write_text as atomic_write_text
from arrears.validation.runner import SuiteOutcome, Validator

from ..paths import ROOT

GX_DIR = ROOT / "gx"
VENDOR_DIR = GX_DIR / "static" / "vendor"
SITE = "local_site"

# CDN address pattern -> vendored file ("" = drop the tag). First match wins.
STYLESHEETS: list[tuple[str, str]] = [
    (r"bootstrap-table@[^\"']*/filter-control/bootstrap-table-filter-control(\.min)?\.css",
     "bootstrap-table-filter-control-1.19.1.min.css"),
    (r"bootstrap-table@[^\"']*/bootstrap-table(\.min)?\.css", "bootstrap-table-1.19.1.min.css"),
    (r"bootstrap-dark", ""),
    (r"bootstrap-datepicker", "bootstrap-datepicker-1.9.0.min.css"),
    (r"bootstrap(\.min)?\.css", "bootstrap-4.3.1.min.css"),
    (r"font-awesome|fontawesome", "icons.css"),
]
SCRIPTS: list[tuple[str, str]] = [
    (r"jquery[^/\"']*\.js", "jquery-3.7.1.min.js"),
    (r"popper", ""),                                   # included in bootstrap.bundle
    (r"bootstrap-table@[^\"']*/filter-control/", "bootstrap-table-filter-control-1.19.1.min.js"),
    (r"bootstrap-table@", "bootstrap-table-1.19.1.min.js"),
    (r"bootstrap-datepicker", "bootstrap-datepicker-1.9.0.min.js"),   # the date filter of the index table
    (r"bootstrap(\.min)?\.js", "bootstrap-4.3.1.bundle.min.js"),
    (r"vega-embed", "vega-offline.js"),
    (r"vega", ""),
]

_LINK = re.compile(r"<link\b[^>]*?\bhref=[\"'](https?:)?//[^\"']*[\"'][^>]*>", re.I)
_SCRIPT = re.compile(r"<script\b[^>]*?\bsrc=[\"'](https?:)?//[^\"']*[\"'][^>]*>\s*</script>", re.I)
_IMG = re.compile(r"(<img\b[^>]*?\bsrc=)[\"'](?:https?:)?//[^\"']*/([A-Za-z0-9_.-]+\.(?:png|svg|gif|ico))"
                  r"(?:\?[^\"']*)?[\"']", re.I)
_HREF = re.compile(r"\bhref=[\"']([^\"']*)[\"']", re.I)
_SRC = re.compile(r"\bsrc=[\"']([^\"']*)[\"']", re.I)
_TAG = re.compile(r"<(link|script|img)\b[^>]*>", re.I)
_IMPORT = re.compile(r"@import\s+(?:url\()?[\"']?(?:https?:)?//", re.I)
_REMOTE = re.compile(r"^(?:https?:)?//", re.I)
_CSS_URL = re.compile(r"url\(\s*[\"']?(?:https?:)?//[^)]*\)", re.I)


class DocsError(RuntimeError):
    pass


def _pick(url: str, table: list[tuple[str, str]]) -> str | None:
    for pattern, target in table:
        if re.search(pattern, url, re.I):
            return target
    return None


def _relative(from_file: Path, to: Path) -> str:
    return Path(os.path.relpath(to, from_file.parent)).as_posix()


def localize_html(html: str, page: Path, site: Path) -> str:
    """The page with every remote stylesheet/script/image replaced by a local copy or dropped."""
    vendor = site / "static" / "vendor"
    images = site / "static" / "images"

    def link(m: re.Match[str]) -> str:
        tag = m.group(0)
        href = _HREF.search(tag)
        target = _pick(href.group(1), STYLESHEETS) if href else None
        if target is None:
            if "stylesheet" not in tag.lower():
                return tag               # a plain hyperlink-like <link>: not an asset
            return ""
        if not target:
            return ""
        return f'<link rel="stylesheet" href="{_relative(page, vendor / target)}">'

    def script(m: re.Match[str]) -> str:
        src = _SRC.search(m.group(0))
        target = _pick(src.group(1), SCRIPTS) if src else None
        if not target:
            return ""
        return f'<script src="{_relative(page, vendor / target)}"></script>'

    def image(m: re.Match[str]) -> str:
        return f'{m.group(1)}"{_relative(page, images / m.group(2))}"'

    html = _LINK.sub(link, html)
    html = _SCRIPT.sub(script, html)
    html = _IMG.sub(image, html)
    html = _CSS_URL.sub("none", html)         # e.g. the dark-theme logo of GX's inline styles

    def local(m: re.Match[str]) -> str:
        # GX miscounts the depth of some pages (the favicon of validation pages points one level short):
        # every reference into the site's static/ folder is recomputed from the page's real location
        tag = m.group(0)
        ref = (_HREF if m.group(1).lower() == "link" else _SRC).search(tag)
        if not ref or _REMOTE.match(ref.group(1)) or "static/" not in ref.group(1):
            return tag
        tail = ref.group(1).split("static/", 1)[1]
        fixed = _relative(page, site / "static" / tail)
        return tag[:ref.start(1)] + fixed + tag[ref.end(1):]

    return _TAG.sub(local, html)


def remote_asset_references(site: Path) -> list[str]:
    """'<file>: <tag>' for every stylesheet, script, image or CSS url() a page would load from the network."""
    found = []
    for page in sorted(site.rglob("*.html")):
        if ".gx" in page.relative_to(site).parts:
            continue
        text = page.read_text(encoding="utf-8", errors="replace")
        for m in _TAG.finditer(text):
            tag, kind = m.group(0), m.group(1).lower()
            ref = (_HREF if kind == "link" else _SRC).search(tag)
            if not ref or not _REMOTE.match(ref.group(1).strip()):
                continue
            if kind == "link" and "stylesheet" not in tag.lower() and not ref.group(1).lower().endswith(".css"):
                continue      # rel=canonical and the like load nothing
            found.append(f"{page.relative_to(site)}: {tag[:140]}")
        found += [f"{page.relative_to(site)}: {m.group(0)[:140]}" for m in _IMPORT.finditer(text)]
        found += [f"{page.relative_to(site)}: {m.group(0)[:140]}" for m in _CSS_URL.finditer(text)]
    return found


def _workspace_config(docs_dir: Path) -> str:
    """The committed config with the site's base_directory pointed at docs_dir (YAML is a JSON superset)."""
    import yaml

    config = yaml.safe_load((GX_DIR / "great_expectations.yml").read_text(encoding="utf-8"))
    config["data_docs_sites"][SITE]["store_backend"]["base_directory"] = str(docs_dir) + os.sep
    header = ("# Generated by arrears.validation.docs from gx/great_expectations.yml; rewritten at every run.\n")
    return header + json.dumps(config, indent=2, sort_keys=True) + "\n"


def build_data_docs(docs_dir: Path, outcomes: Iterable[SuiteOutcome], validator: Validator) -> Path:
    """Store the results, build the site into docs_dir, make it offline. Returns index.html."""
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    docs_dir = docs_dir.resolve()
    workspace = docs_dir / ".gx"
    (workspace / "gx").mkdir(parents=True, exist_ok=True)
    with open(workspace / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)      # one build per docs folder at a time
        atomic_write_text(workspace / "gx" / "great_expectations.yml", _workspace_config(docs_dir))
        context = gx.get_context(mode="file", project_root_dir=str(workspace))
        store = context.validation_results_store
        done = [o for o in outcomes if o.gx_result is not None]
        for outcome in done:
            suite = outcome.suite
            context.suites.add_or_update(validator.gx_suite(suite))
            for key in store.list_keys():
                if key.expectation_suite_identifier.name == suite.name:
                    store.remove_key(key)
            shutil.rmtree(docs_dir.joinpath("validations", *suite.name.split(".")), ignore_errors=True)
            run_id = outcome.gx_result.meta["run_id"]
            key = ValidationResultIdentifier(expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
                                             run_id=run_id, batch_identifier=suite.relation)
            store.set(key, outcome.gx_result)
        context.build_data_docs(site_names=[SITE])
        target = docs_dir / "static" / "vendor"
        shutil.copytree(VENDOR_DIR, target, dirs_exist_ok=True)
        for page in docs_dir.rglob("*.html"):
            if ".gx" in page.relative_to(docs_dir).parts:
                continue
            text = page.read_text(encoding="utf-8")
            new = localize_html(text, page, docs_dir)
            if new != text:
                atomic_write_text(page, new)
        left = remote_asset_references(docs_dir)
        if left:
            raise DocsError("Data Docs still load remote assets:\n  " + "\n  ".join(left[:10]))
    return docs_dir / "index.html"


def write_summary(docs_dir: Path, outcomes: Iterable[SuiteOutcome], params: dict[str, Any], run_time: str) -> Path:
    """docs_dir/validation_summary.json: the latest outcome of every suite validated into this folder."""
    path = docs_dir / "validation_summary.json"
    data: dict[str, Any] = {"suites": {}}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            data = {"suites": {}}
    for outcome in outcomes:
        entry = outcome.to_json()
        entry["run_time"] = run_time
        entry["parameters"] = params
        data.setdefault("suites", {})[outcome.suite.name] = entry
    data["suites"] = dict(sorted(data["suites"].items()))
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    return path
