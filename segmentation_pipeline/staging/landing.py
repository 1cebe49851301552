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
    relpath: str  # relative to the raw directory; the stable name a file is known by (always valid UTF-8)
    landing_date: dt.date | None  # None when the name does not follow the convention
    fmt: str | None
    size: int
    mtime_ns: int
    refused: str | None = None  # why the file is not read at all (symlink, name not UTF-8)
    inode: int = 0
    ctime_ns: int = 0  # no tool sets it back: with the inode, it makes size+mtime a safe shortcut

    @property
    def name_error(self) -> str | None:
        if self.refused:
            return self.refused
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


def _printable_name(name: str) -> tuple[str, bool]:
    """A name that can be stored and shown (undecodable bytes as \\xNN), and whether it was valid UTF-8."""
    try:
        name.encode("utf-8")
        return name, True
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape")
        return raw.decode("utf-8", "backslashreplace"), False


def discover(raw_dir: Path, source: str) -> list[LandingFile]:
    """Every file in `raw/<source>/`, oldest landing date first (hidden files skipped).

    Symbolic links are listed but refused (the loader never reads outside `raw/`), and so are
    names that are not valid UTF-8 (they could not be recorded as they are).
    """
    folder = raw_dir / source
    if not folder.is_dir():
        return []
    files = []
    for path in folder.iterdir():
        if path.name.startswith("."):
            continue
        refused = None
        if folder.is_symlink():  # every file in it is outside raw/: listed, so that it is reported
            refused = f"raw/{source} is a symbolic link: refused, the pipeline reads only inside raw/"
            if not path.is_file():
                continue
            stat = path.lstat()
        elif path.is_symlink():
            refused = "symbolic link refused: the pipeline reads only regular files inside raw/"
            stat = path.lstat()
        elif path.is_file():
            stat = path.stat()
        else:
            continue
        name, valid = _printable_name(path.name)
        if not valid:
            refused = "file name is not valid UTF-8: rename the file"
        files.append(
            LandingFile(
                source=source,
                path=path,
                relpath=f"{source}/{name}",
                landing_date=_parse_name(source, path) if valid else None,
                fmt=FORMATS.get(path.suffix.lower()),
                size=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
                refused=refused,
                inode=stat.st_ino,
                ctime_ns=stat.st_ctime_ns,
            )
        )
    return sorted(files, key=lambda f: (f.landing_date or dt.date.min, f.relpath))


def latest_acceptable_date(today: dt.date | None = None) -> dt.date:
    """Files dated later than this (today + 1 day) are in the future: they wait, with a warning."""
    return (today or dt.date.today()) + dt.timedelta(days=1)


def newest_landing_date(raw_dir: Path, today: dt.date | None = None) -> dt.date | None:
    """The date of the newest correctly named landing file of any source, future-dated files excepted."""
    limit = latest_acceptable_date(today)
    dates = [
        f.landing_date
        for folder in (raw_dir.iterdir() if raw_dir.is_dir() else [])
        if folder.is_dir()
        for f in discover(raw_dir, folder.name)
        if f.landing_date and f.landing_date <= limit and not f.refused
    ]
    return max(dates, default=None)
