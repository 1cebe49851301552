"""Discovery of landing files: `raw/<source>/<source>_YYYY-MM-DD.<ext>`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(frozen=True)
class LandingFile:
    source: str
    path: Path
    relpath: str  # relative to the raw directory; the stable name a file is known by
    landing_date: dt.date | None  # None when the name does not follow the convention
    fmt: str | None
    size: int
    mtime_ns: int

    @property
    def name_error(self) -> str | None:
        if self.fmt is None:
            return f"unsupported file type {self.path.suffix!r} (expected .csv, .parquet or .jsonl)"
        if self.landing_date is None:
            return f"file name does not follow {self.source}_YYYY-MM-DD{self.path.suffix}"
        return None


def _parse_name(source: str, path: Path) -> dt.date | None:
    match = re.fullmatch(rf"{re.escape(source)}_(\d{{4}}-\d{{2}}-\d{{2}})", path.stem)
    if not match:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def discover(raw_dir: Path, source: str) -> list[LandingFile]:
    """Every file in `raw/<source>/`, oldest landing date first (hidden files skipped)."""
    folder = raw_dir / source
    if not folder.is_dir():
        return []
    files = []
    for path in folder.iterdir():
        if not path.is_file() or path.name.startswith("."):
            continue
        stat = path.stat()
        files.append(
            LandingFile(
                source=source,
                path=path,
                relpath=path.relative_to(raw_dir).as_posix(),
                landing_date=_parse_name(source, path),
                fmt=FORMATS.get(path.suffix.lower()),
                size=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
            )
        )
    return sorted(files, key=lambda f: (f.landing_date or dt.date.min, f.relpath))


def newest_landing_date(raw_dir: Path) -> dt.date | None:
    """The date of the newest correctly named landing file of any source."""
    dates = [
        f.landing_date
        for folder in (raw_dir.iterdir() if raw_dir.is_dir() else [])
        if folder.is_dir()
        for f in discover(raw_dir, folder.name)
        if f.landing_date
    ]
    return max(dates, default=None)
