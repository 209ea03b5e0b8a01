"""Runs inside .venv-bi, with SUPERSET_HOME and SUPERSET_CONFIG_PATH set (arrears/bi.py calls it).

    .venv-bi/bin/python bi/provision.py import --bundle bi/bundle --db /abs/arrears.duckdb --user admin
    .venv-bi/bin/python bi/provision.py export --bundle bi/bundle --user admin

import (after `superset db upgrade` and `superset init`): creates the admin user or sets its password (read
from the environment variable ARREARS_BI_PASSWORD, never from the command line), then imports the bundle with
the database pointed at the published file. It is Superset's "assets" import (ImportAssetsCommand, behind
/api/v1/assets/import/): databases, datasets, charts and dashboards of the same UUID are overwritten, so a
re-run replaces what an earlier run imported. Prints one JSON line naming the dashboards.

export: the round trip. Everything the Superset home holds (ExportAssetsCommand) is written back into the
bundle: a file whose UUID the bundle already has keeps its name, a new one gets Superset's name; the
database's path goes back to the placeholder and the charts' query_context (numeric ids of this home) is
dropped, so that the diff shows only what was changed in the UI.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import yaml
from flask import g


def bundle_contents(bundle: Path, database_uri: str) -> dict[str, str]:
    """The bundle's YAML files by their path inside the bundle; every database gets `database_uri`."""
    contents = {}
    for path in sorted(bundle.rglob("*.yaml")):
        name = path.relative_to(bundle).as_posix()
        text = path.read_text(encoding="utf-8")
        if name.startswith("databases/"):
            config = yaml.safe_load(text)
            config["sqlalchemy_uri"] = database_uri
            text = _dump(config)
        contents[name] = text
    return contents


def _dump(config: dict) -> str:
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=110)


def import_bundle(bundle: Path, db_file: Path, username: str, password: str) -> None:
    from superset import security_manager
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.extensions import db
    from superset.models.dashboard import Dashboard

    user = security_manager.find_user(username=username)
    if user is None:
        user = security_manager.add_user(username, "Arrears", "Admin", f"{username}@localhost",
                                         security_manager.find_role("Admin"), password=password)
    else:
        security_manager.reset_password(user.id, password)
    g.user = user
    ImportAssetsCommand(bundle_contents(bundle, f"duckdb:///{db_file.resolve()}?access_mode=read_only")).run()
    dashboards = db.session.query(Dashboard).all()
    print(json.dumps({"dashboards": [{"id": d.id, "slug": d.slug, "title": d.dashboard_title,
                                      "charts": len(d.slices)} for d in dashboards]}))


def export_bundle(bundle: Path) -> None:
    from superset.commands.export.assets import ExportAssetsCommand

    existing = {p: yaml.safe_load(p.read_text(encoding="utf-8")) for p in bundle.rglob("*.yaml")}
    by_uuid = {config.get("uuid"): p for p, config in existing.items()}
    written = []
    for name, content in ExportAssetsCommand().run():
        if name == "metadata.yaml":
            continue  # (only its timestamp would change)
        config = yaml.safe_load(content())
        path = by_uuid.get(config.get("uuid"), bundle / name)
        if name.startswith("databases/") and path in existing:
            config["sqlalchemy_uri"] = existing[path]["sqlalchemy_uri"]  # the placeholder, not this machine's path
        if name.startswith("charts/"):
            config["query_context"] = None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dump(config), encoding="utf-8")
        written.append(str(path.relative_to(bundle)))
    print(json.dumps({"written": written}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["import", "export"])
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--db", type=Path, help="import: the published DuckDB file")
    parser.add_argument("--user", required=True, help="the admin user (import creates it)")
    args = parser.parse_args()

    from superset.app import create_app

    with create_app().app_context():
        if args.action == "import":
            import_bundle(args.bundle, args.db, args.user, os.environ["ARREARS_BI_PASSWORD"])
        else:
            from superset import security_manager

            g.user = security_manager.find_user(username=args.user)
            export_bundle(args.bundle)


if __name__ == "__main__":
    main()
