"""Read one CSV file of one kind: header checks, cell parsing, duplicate keys."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webapp.marketplace.importer.kinds import Column, Kind
from webapp.marketplace.importer.report import ImportReport, RowError


@dataclass
class ParsedRow:
    """A row whose every cell parsed: its file line and its values by column."""

    line: int
    values: dict[str, Any]


@dataclass
class ParsedFile:
    """The valid rows of one file, and the key of every row, valid or not."""

    kind: Kind
    name: str
    rows: list[ParsedRow] = field(default_factory=list)
    # key -> first line; includes invalid rows so their references do not dangle
    keys: dict[tuple, int] = field(default_factory=dict)
    # False when the file could not be read through (its keys are then incomplete)
    complete: bool = True


def read_file(kind: Kind, path: Path, report: ImportReport) -> ParsedFile:
    """Parse ``path`` as a ``kind`` file, adding every problem to ``report``."""
    parsed = ParsedFile(kind, path.name)
    line = 1
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            positions = _positions(parsed, header, report)
            if positions is None:
                parsed.complete = False
                return parsed
            end = reader.line_num
            for cells in reader:
                # A quoted value may span lines: a row starts after the previous one.
                line, end = end + 1, reader.line_num
                if any(cell.strip() for cell in cells):
                    _read_row(parsed, positions, len(header), line, cells, report)
    except UnicodeDecodeError:
        _fail(parsed, report, None, "is not UTF-8 text (save it as CSV UTF-8)")
    except csv.Error as error:
        _fail(parsed, report, line, f"is not valid CSV ({error})")
    return parsed


def _fail(parsed: ParsedFile, report: ImportReport, line: int | None, reason: str):
    parsed.complete = False
    report.errors.append(RowError(parsed.name, line, None, reason))


def _positions(
    parsed: ParsedFile, header: list[str] | None, report: ImportReport
) -> list[tuple[Column, int | None]] | None:
    """Map each expected column to its index in ``header``; None on a bad header."""
    if not header or not any(name.strip() for name in header):
        report.errors.append(RowError(parsed.name, 1, None, "has no header row"))
        return None
    names = [name.strip().lower() for name in header]
    problems = []
    twice = sorted({name for name in names if name and names.count(name) > 1})
    if twice:
        problems.append(f"column(s) appearing twice: {', '.join(twice)}")
    missing = [
        c.name for c in parsed.kind.columns if c.name not in names and not c.optional
    ]
    if missing:
        problems.append(f"missing required column(s): {', '.join(missing)}")
    if problems:
        for problem in problems:
            report.errors.append(RowError(parsed.name, 1, None, problem))
        return None
    expected = {column.name for column in parsed.kind.columns}
    extra = [name or "(unnamed)" for name in names if name not in expected]
    if extra:
        report.warnings.append(
            f"{parsed.name}: ignored extra column(s): {', '.join(extra)}"
        )
    # An optional column left out of the header reads as empty in every row.
    return [
        (column, names.index(column.name) if column.name in names else None)
        for column in parsed.kind.columns
    ]


def _read_row(
    parsed: ParsedFile,
    positions: list[tuple[Column, int | None]],
    width: int,
    line: int,
    cells: list[str],
    report: ImportReport,
) -> None:
    """Parse one row; keep it when every cell is valid and its key is new."""
    errors = report.errors
    found = len(errors)
    if len(cells) > width:
        reason = f"has {len(cells)} values but the header has {width} columns"
        errors.append(RowError(parsed.name, line, None, reason))
    values: dict[str, Any] = {}
    for column, index in positions:
        raw = cells[index].strip() if index is not None and index < len(cells) else ""
        if raw:
            try:
                values[column.name] = column.parse(raw)
            except ValueError as error:
                errors.append(RowError(parsed.name, line, column.name, str(error)))
        elif column.empty is not None:
            values[column.name] = column.empty()
        else:
            errors.append(RowError(parsed.name, line, column.name, "is required"))
    if parsed.kind.check:
        for name, reason in parsed.kind.check(values):
            errors.append(RowError(parsed.name, line, name, reason))
    key = parsed.kind.key_of(values)
    if key is not None:
        first = parsed.keys.setdefault(key, line)
        if first != line:
            shown = ", ".join(str(part) for part in key)
            reason = f"duplicate key {shown} (first on line {first})"
            errors.append(RowError(parsed.name, line, parsed.kind.key[0], reason))
    if len(errors) == found:
        parsed.rows.append(ParsedRow(line, values))
