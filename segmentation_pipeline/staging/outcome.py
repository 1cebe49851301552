"""What one load did with one source and each of its files: read by the gate, the checks and the metadata."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from segmentation_pipeline.staging.erased import ERASED_RULE
from segmentation_pipeline.staging.landing import LandingFile


@dataclass
class FileOutcome:
    file: LandingFile
    checksum: str | None  # None when the file could not be read
    status: str
    rows_received: int | None
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error: str | None = None
    rows_expected: int = 0  # quarantined rows whose every rule is declared expected for the source


@dataclass
class SourceLoad:
    """What one run did with one source: the metadata and the rejected-share check read this."""

    source: str
    files_seen: int = 0
    files_unchanged: int = 0
    files_deferred: int = 0  # dated after the analysis date: loaded by a later run
    files_waiting: int = 0  # still being written, or re-landed empty: not loaded this run
    # Files the gate must hold whatever the shares: (file, checksum, reason).
    suspicious: list[tuple[LandingFile, str | None, str]] = field(default_factory=list)
    outcomes: list[FileOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)

    @property
    def rows_received(self) -> int:
        return sum(o.rows_received or 0 for o in self.outcomes)

    @property
    def rows_loaded(self) -> int:
        return sum(o.rows_loaded for o in self.outcomes)

    @property
    def rows_quarantined(self) -> int:
        return sum(o.rows_quarantined for o in self.outcomes)

    @property
    def rows_expected(self) -> int:
        return sum(o.rows_expected for o in self.outcomes)

    @property
    def rows_erased(self) -> int:
        """Rows of erased customers: rejected by policy, not because the data is bad."""
        return self.reasons.get(ERASED_RULE, 0)
