"""Set up Superset for the segment marts: metadata database, admin user, roles, and the dashboard.

Run with the BI environment's Python (`make bi-setup` does):
    .venv-bi/bin/python bi/superset/setup_superset.py --snapshot data/marts.duckdb
SUPERSET_HOME (state), SUPERSET_CONFIG_PATH (bi/superset/superset_config.py) and, optionally,
SUPERSET_ADMIN_PASSWORD (default "admin": the server listens on 127.0.0.1 only) come from the
environment. Safe to run again: the dashboard and its datasets are replaced in place.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dashboard import DASHBOARD_SLUG, bundle  # noqa: E402


def set_up(contents: bytes, password: str) -> None:
    """`superset db upgrade`, `superset init`, `superset fab create-admin` and the import, in one
    process: each `superset` command starts the whole application again (5-30 s apiece here)."""
    import zipfile
    from io import BytesIO

    import flask_migrate
    from flask import g
    from superset.app import create_app

    with create_app().app_context():
        from superset import appbuilder, db, security_manager
        from superset.commands.importers.v1.assets import ImportAssetsCommand
        from superset.commands.importers.v1.utils import get_contents_from_bundle

        timed("metadata database upgraded", flask_migrate.upgrade)
        timed("roles and permissions", lambda: (appbuilder.add_permissions(update_perms=True),
                                                security_manager.sync_role_definitions()))  # fmt: skip
        admin = security_manager.find_user(username="admin")
        if admin is None:  # an existing admin keeps the password it has
            admin = security_manager.add_user(
                "admin",
                "Segment",
                "Admin",
                "admin@localhost",
                security_manager.find_role("Admin"),
                password=password,
            )
        db.session.commit()
        g.user = admin
        # ImportAssetsCommand replaces every object it is given; `superset import-dashboards` would
        # keep the datasets and charts of an earlier import as they were.
        with zipfile.ZipFile(BytesIO(contents)) as archive:
            bundle_contents = get_contents_from_bundle(archive)
        timed("dashboard imported", lambda: ImportAssetsCommand(bundle_contents).run())


def timed(what: str, step) -> None:
    started = time.monotonic()
    step()
    print(f"{what}: {time.monotonic() - started:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, required=True, help="the published marts.duckdb")
    args = parser.parse_args()
    snapshot = args.snapshot.resolve()
    if not snapshot.is_file():
        sys.exit(f"{snapshot} does not exist: run the pipeline first (`make run`), it publishes the snapshot")

    home = Path(os.environ["SUPERSET_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    key = home / "secret_key"
    if not key.exists():
        key.write_text(secrets.token_urlsafe(42))
        key.chmod(0o600)

    contents, warnings = bundle(snapshot)
    for warning in warnings:
        print(f"warning: {warning}")
    set_up(contents, os.environ.get("SUPERSET_ADMIN_PASSWORD", "admin"))
    print(f"Superset ready: dashboard /superset/dashboard/{DASHBOARD_SLUG}/ on {snapshot} (read-only)")


if __name__ == "__main__":
    main()
