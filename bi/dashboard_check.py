"""Open a Superset dashboard in headless Chromium as a person would, and report what the page shows.

Runs inside .venv-bi (it drives Chromium through the Chrome DevTools Protocol with websocket-client):

    ARREARS_BI_PASSWORD=... .venv-bi/bin/python bi/dashboard_check.py --url http://127.0.0.1:8088 \
        --dashboard /superset/dashboard/overdue-overview/ --user admin --screenshot shot.png

Logs in on the login page (typing into the form), opens the dashboard, waits until every chart's data
request has been answered and no chart is loading any more, writes a full-page PNG and prints one JSON object:
    {"charts": {<chart name>: {"text": ..., "big_number": ... or null, "error": ... or null}},
     "chart_data_status": [HTTP status of every chart data request], "page_text": ..., "seconds": ...}
"""
from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import websocket

# What the page shows, per chart holder (Superset marks each with data-test-chart-name)
READ_PAGE = """(() => {
  const charts = {};
  for (const holder of document.querySelectorAll('[data-test-chart-name]')) {
    const big = holder.querySelector('.header-line');
    const error = holder.querySelector('.ant-alert-error, [role="alert"], [data-test="error-tooltip"]');
    charts[holder.getAttribute('data-test-chart-name')] = {
      text: holder.innerText,
      big_number: big ? big.innerText.trim() : null,
      loading: holder.querySelector('[data-test="loading-indicator"]') !== null,
      drawn: holder.querySelector('canvas, svg, table, .header-line') !== null,
      error: error ? (error.innerText || 'error') : null,
    };
  }
  return JSON.stringify({charts, page_text: document.body.innerText});
})()"""


class Page:
    """One Chromium tab over the DevTools Protocol: commands, and the events seen so far."""

    def __init__(self, ws_url: str):
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def send(self, method: str, **params) -> dict:
        message_id = next(self.ids)
        self.ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def pump(self, seconds: float) -> None:
        """Collect events for `seconds`."""
        self.ws.settimeout(seconds)
        try:
            while True:
                self.events.append(json.loads(self.ws.recv()))
        except websocket.WebSocketTimeoutException:
            pass
        finally:
            self.ws.settimeout(60)

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            self.pump(0.5)
        raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")

    def goto(self, url: str, timeout: float) -> None:
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'", timeout, f"{url} to load")


def start_chromium(profile: Path, width: int, height: int) -> tuple[subprocess.Popen, str]:
    """Headless Chromium with remote debugging on a free port; returns the process and the page's socket URL."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not chromium:
        raise SystemExit("chromium is not installed")
    process = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--no-default-browser-check", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", f"--window-size={width},{height}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while not port_file.exists() or len(port_file.read_text().splitlines()) < 2:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("Chromium did not start")
        time.sleep(0.2)
    port = port_file.read_text().splitlines()[0]
    from urllib.request import urlopen
    for _ in range(100):
        targets = json.load(urlopen(f"http://127.0.0.1:{port}/json/list"))
        pages = [t for t in targets if t.get("type") == "page"]
        if pages:
            return process, pages[0]["webSocketDebuggerUrl"]
        time.sleep(0.2)
    raise RuntimeError("Chromium has no page")


def log_in(page: Page, base_url: str, user: str, password: str, timeout: float) -> None:
    """Type the credentials into Superset's login form and press Enter; again on a freshly loaded form when the
    login has not gone through within 30 s (under load the form can take the keys before its script is ready:
    seen once in CI, where one attempt waited out the whole timeout)."""
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        attempt += 1
        page.goto(f"{base_url}/login/", max(deadline - time.monotonic(), 1))
        for field, value in (("username", user), ("password", password)):
            page.wait_for(f"!!document.querySelector('input#{field}, input[name={field}]')",
                          max(deadline - time.monotonic(), 1), "the login form")
            page.evaluate(f"document.querySelector('input#{field}, input[name={field}]').focus()")
            page.send("Input.insertText", text=value)
        page.evaluate("document.querySelector('input#password, input[name=password]').focus()")
        for kind in ("keyDown", "keyUp"):
            page.send("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter", windowsVirtualKeyCode=13,
                      **({"text": "\r"} if kind == "keyDown" else {}))
        left = deadline - time.monotonic()
        try:
            page.wait_for("!location.pathname.startsWith('/login')", max(min(30.0, left), 1),
                          "the login to go through")
            return
        except TimeoutError:
            if left <= 30.0:
                raise TimeoutError(f"timed out after {timeout:.0f}s waiting for the login to go through "
                                   f"({attempt} attempts)") from None


def chart_data_statuses(page: Page) -> list[int]:
    return [e["params"]["response"]["status"] for e in page.events
            if e.get("method") == "Network.responseReceived"
            and "/api/v1/chart/data" in e["params"]["response"]["url"]]


def read_dashboard(page: Page, url: str, timeout: float) -> dict:
    """Open `url` and wait until every chart holder has been drawn (or shows an error) and is not loading."""
    page.events.clear()
    page.goto(url, timeout)
    page.wait_for("document.querySelectorAll('[data-test-chart-name]').length > 0", timeout, "the charts")
    deadline = time.monotonic() + timeout
    while True:
        state = json.loads(page.evaluate(READ_PAGE))
        charts = state["charts"]
        settled = all(not c["loading"] and (c["drawn"] or c["error"]) for c in charts.values())
        if settled and len(chart_data_statuses(page)) >= len(charts):
            break
        if time.monotonic() > deadline:
            pending = [name for name, c in charts.items() if c["loading"] or not (c["drawn"] or c["error"])]
            raise TimeoutError(f"charts still not drawn after {timeout:.0f}s: {pending}")
        page.pump(0.5)
    page.pump(1.5)  # chart animations end
    state = json.loads(page.evaluate(READ_PAGE))
    state["chart_data_status"] = chart_data_statuses(page)
    return state


def screenshot(page: Page, path: Path) -> None:
    """The window as a PNG (it is as tall as the dashboard: Superset scrolls the dashboard in an inner
    element, which a capture beyond the window would leave blank)."""
    shot = page.send("Page.captureScreenshot", format="png")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="Superset's base URL")
    parser.add_argument("--dashboard", required=True, help="the dashboard's path, e.g. /superset/dashboard/<slug>/")
    parser.add_argument("--user", required=True)
    parser.add_argument("--screenshot", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=2900, help="the window's height: the whole dashboard")
    args = parser.parse_args()
    started = time.monotonic()
    # (a helper process of Chromium may still write to its profile while the folder is removed)
    with tempfile.TemporaryDirectory(prefix="arrears-chromium-", ignore_cleanup_errors=True) as profile:
        chromium, ws_url = start_chromium(Path(profile), args.width, args.height)
        try:
            page = Page(ws_url)
            page.send("Page.enable")
            page.send("Network.enable")
            page.send("Emulation.setDeviceMetricsOverride", width=args.width, height=args.height,
                      deviceScaleFactor=1, mobile=False)
            log_in(page, args.url, args.user, os.environ["ARREARS_BI_PASSWORD"], args.timeout)
            state = read_dashboard(page, args.url + args.dashboard, args.timeout)
            screenshot(page, args.screenshot)
        finally:
            os.killpg(chromium.pid, signal.SIGTERM)  # Chromium and its helper processes (its own session)
            chromium.wait(timeout=30)
    state["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(state, ensure_ascii=False))


if __name__ == "__main__":
    main()
