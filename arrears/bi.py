"""`make bi`: Apache Superset on the published warehouse, with the dashboards of bi/bundle (docs/bi.md).

Superset lives in its own virtual environment (.venv-bi, bi/setup_venv.sh); this module only drives it as a
subprocess, so it runs from .venv (or any Python 3.11) and the tests reuse it (tests/pytest/test_superset.py):

    set_up(home, db)      SUPERSET_HOME under target/, `superset db upgrade`, `superset init`, the admin user
                          and the import of bi/bundle pointed at `db` (bi/provision.py); re-runnable
    serve(home, port)     the web server (gunicorn) on localhost, returned as a running process
    wait_until_up(url)    polls /health until the server answers
    read_dashboard(...)   logs in and opens the dashboard in headless Chromium (bi/dashboard_check.py): the
                          charts' texts, errors and a screenshot, as a person sees them

Superset reads `db` read-only and opens a new DuckDB connection per query, so a build published meanwhile
(os.replace of the file, arrears/publish.py) shows on the next page load.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from arrears.paths import ROOT, default_db

BI_VENV = Path(os.environ.get("ARREARS_BI_VENV", ROOT / ".venv-bi"))
BUNDLE = ROOT / "bi" / "bundle"
CONFIG = ROOT / "bi" / "superset_config.py"
DEFAULT_HOME = ROOT / "target" / "superset"
ADMIN = "admin"
DASHBOARD_SLUG = "overdue-overview"


@dataclass(frozen=True)
class Site:
    """A set-up Superset home: who logs in and where the dashboard is."""
    home: Path
    db: Path
    user: str
    password: str
    password_source: str

    def dashboard_url(self, base_url: str) -> str:
        return f"{base_url}/superset/dashboard/{DASHBOARD_SLUG}/"


def superset_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"SUPERSET_HOME": str(home), "SUPERSET_CONFIG_PATH": str(CONFIG), "DO_NOT_TRACK": "1",
                "FLASK_APP": "superset.app:create_app()"})
    return env


def _run(home: Path, args: list[str], extra_env: dict[str, str] | None = None) -> str:
    env = superset_env(home) | (extra_env or {})
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
        raise RuntimeError(f"{' '.join(map(str, args))} failed (exit {result.returncode}):\n{tail}")
    return result.stdout


def _secret(path: Path, make) -> str:
    """The value kept in `path` (created with `make()` the first time, readable by the owner only)."""
    if not path.exists():
        path.write_text(make() + "\n", encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def require_venv() -> None:
    if not (BI_VENV / "bin" / "superset").exists():
        raise SystemExit(f"{BI_VENV} is missing: run `make venv-bi` (bi/setup_venv.sh) first")


def set_up(home: Path = DEFAULT_HOME, db: Path | None = None) -> Site:
    """Everything but the server, idempotent: the metadata database is migrated, roles and permissions
    synced, the admin's password set and the bundle imported again (an import overwrites)."""
    require_venv()
    db = (db or default_db()).resolve()
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    _secret(home / "secret_key", lambda: secrets.token_urlsafe(42))
    if os.environ.get("ARREARS_BI_PASSWORD"):
        password, source = os.environ["ARREARS_BI_PASSWORD"], "ARREARS_BI_PASSWORD"
    else:
        password_file = home / "admin_password"
        password, source = _secret(password_file, lambda: secrets.token_urlsafe(12)), str(password_file)
    superset = str(BI_VENV / "bin" / "superset")
    _run(home, [superset, "db", "upgrade"])
    _run(home, [superset, "init"])
    _run(home, [str(BI_VENV / "bin" / "python"), str(ROOT / "bi" / "provision.py"),
                "import", "--bundle", str(BUNDLE), "--db", str(db), "--user", ADMIN],
         extra_env={"ARREARS_BI_PASSWORD": password})
    return Site(home=home, db=db, user=ADMIN, password=password, password_source=source)


def export_bundle(home: Path = DEFAULT_HOME) -> str:
    """Write what the Superset home holds back into bi/bundle (the round trip after a change in the UI)."""
    require_venv()
    return _run(home.resolve(), [str(BI_VENV / "bin" / "python"), str(ROOT / "bi" / "provision.py"), "export",
                                 "--bundle", str(BUNDLE), "--user", ADMIN])


def serve(home: Path, port: int, host: str = "127.0.0.1", log: Path | None = None) -> subprocess.Popen:
    """Superset's web server (gunicorn, one process, threads for the charts' parallel queries)."""
    require_venv()
    cmd = [str(BI_VENV / "bin" / "gunicorn"), "--bind", f"{host}:{port}", "--workers", "1", "--threads", "8",
           "--timeout", "300", "superset.app:create_app()"]
    if log is None:
        return subprocess.Popen(cmd, env=superset_env(home.resolve()))
    with open(log, "ab") as out:  # the server writes to its own copy of the handle
        return subprocess.Popen(cmd, env=superset_env(home.resolve()), stdout=out, stderr=subprocess.STDOUT)


def wait_until_up(base_url: str, process: subprocess.Popen | None = None, timeout: float = 300) -> float:
    """Seconds until `base_url`/health answers 200; RuntimeError when the server exits or time runs out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the Superset server exited (code {process.returncode})")
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=5) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    raise RuntimeError(f"Superset did not answer at {base_url} within {timeout:.0f}s")


def read_dashboard(site: Site, base_url: str, screenshot: Path, timeout: float = 300) -> dict:
    """What the dashboard shows in a browser (bi/dashboard_check.py's JSON), with a PNG at `screenshot`."""
    path = site.dashboard_url(base_url).removeprefix(base_url)
    cmd = [str(BI_VENV / "bin" / "python"), str(ROOT / "bi" / "dashboard_check.py"), "--url", base_url,
           "--dashboard", path, "--user", site.user, "--screenshot", str(screenshot), "--timeout", str(timeout)]
    result = subprocess.run(cmd, env=dict(os.environ, ARREARS_BI_PASSWORD=site.password), capture_output=True,
                            text=True, timeout=timeout + 120)
    if result.returncode != 0:
        raise RuntimeError(f"bi/dashboard_check.py failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="arrears-bi", description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help="the published DuckDB file (default: ARREARS_DB, "
                        "else target/arrears.duckdb)")
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="SUPERSET_HOME (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--no-serve", action="store_true", help="set up and import, do not start the server")
    parser.add_argument("--export", action="store_true", help="write the dashboards, charts and datasets of "
                        "--home back into bi/bundle (after a change in the UI) and exit")
    args = parser.parse_args(argv)
    if args.export:
        print(export_bundle(args.home).strip())
        return 0
    db = (args.db or default_db()).resolve()
    if not db.is_file():
        print(f"warning: {db} does not exist yet (run `make run`); the charts fail until it is published",
              file=sys.stderr)
    started = time.monotonic()
    site = set_up(args.home, db)
    print(f"Superset set up in {args.home} ({time.monotonic() - started:.0f}s); database 'Arrears warehouse' "
          f"-> {db} (read-only)")
    print(f"  user: {site.user}\n  password: {site.password}  (from {site.password_source})")
    if args.no_serve:
        return 0
    base_url = f"http://{args.host}:{args.port}"
    server = serve(args.home, args.port, args.host)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` stops the server too, as Ctrl-C does
    try:
        wait_until_up(base_url, server)
        print(f"Superset is running: {site.dashboard_url(base_url)}\n  log in as {site.user} with the password "
              f"above; Ctrl-C stops the server", flush=True)
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
