"""What an import run found and did: errors, warnings and counts."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RowError:
    """One problem in one file, on one line (1 is the header) and column if known."""

    file: str
    line: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"


@dataclass
class KindCounts:
    """How many rows of one kind were created, updated or found unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )


@dataclass
class ImportReport:
    """The outcome of ``import_files``: nothing is written when ``errors`` is set."""

    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, KindCounts] = field(default_factory=dict)
    revisions: int = 0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the files were valid and have been written."""
        return not self.errors

    def summary(self) -> str:
        """Return a few human lines: counts per kind, revisions and elapsed time."""
        if self.errors:
            return (
                f"Import refused: {len(self.errors)} error(s); nothing was written "
                f"({self.elapsed:.1f} s)."
            )
        lines = [f"{kind}: {counts}" for kind, counts in self.counts.items()]
        lines.append(f"profile revisions: {self.revisions} added")
        lines.append(f"Imported in {self.elapsed:.1f} s.")
        return "\n".join(lines)
