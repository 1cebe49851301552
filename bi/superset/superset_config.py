"""Superset configuration for reading the published marts snapshot on one machine.

Loaded through SUPERSET_CONFIG_PATH. Superset's own state (users, charts, the metadata database)
lives in SUPERSET_HOME, never in the repository; the secret key is made once per home by
`bi/superset/setup_superset.py` (Superset refuses to start on its built-in default key).
"""

import os
from pathlib import Path

_home = Path(os.environ["SUPERSET_HOME"])

SECRET_KEY = os.environ.get("SUPERSET_SECRET_KEY") or (_home / "secret_key").read_text().strip()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_home / 'superset.db'}"

# The snapshot changes once a day, and each query opens the file anew (Superset uses no
# connection pool for analytics databases), so a short cache is enough to spare DuckDB
# repeated dashboard loads while a new run's marts appear within a minute.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 60}

# Examples and telemetry off: this instance serves the segment dashboard only, offline.
SUPERSET_LOAD_EXAMPLES = False
SCARF_ANALYTICS = False
