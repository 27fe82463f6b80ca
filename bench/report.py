"""Tables of medians with ratios, rendered as aligned text and as markdown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from plan import BASELINE, NOT_PEERS, SUBJECT, Metric, Row, Section

Medians = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class Table:
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    note: str = ""


def _ratio(metric: Metric, row: float, reference: float) -> str:
    if row <= 0 or reference <= 0:
        return "-"
    return f"{metric.ratio(row, reference):.2f}x"


def baseline_of(section: Section, row: Row) -> Row | None:
    return next((r for r in section.rows if r.library == BASELINE and r.key == row.key), None)


def peers_of(section: Section, row: Row) -> list[Row]:
    return [r for r in section.rows if r.library not in NOT_PEERS and r.key == row.key]


def _cells(section: Section, row: Row, medians: Medians, errors: Mapping[str, str]) -> list[str]:
    numbers = medians.get(row.label)
    if numbers is None:
        return [f"FAILED: {errors.get(row.label, 'no sample')}"]
    cells = [metric.fmt.format(numbers[metric.key]) for metric in section.metrics]
    base = baseline_of(section, row)
    reference = medians.get(base.label) if base else None
    for metric in section.metrics:
        if metric.compare:
            cells.append(
                _ratio(metric, numbers[metric.key], reference[metric.key]) if reference else ""
            )
        if metric.delta:
            cells.append(
                f"{numbers[metric.key] - reference[metric.key]:+,.0f}" if reference else ""
            )
    return cells


def _comparison_headers(section: Section, reference: str) -> list[str]:
    headers = []
    for metric in section.metrics:
        if metric.compare:
            headers.append(f"{metric.title} vs {reference}")
        if metric.delta:
            headers.append(f"added vs {reference}")
    return headers


def section_table(section: Section, medians: Medians, errors: Mapping[str, str]) -> Table:
    headers = [
        "row",
        *(metric.title for metric in section.metrics),
        *_comparison_headers(section, BASELINE),
    ]
    rows = [[row.label, *_cells(section, row, medians, errors)] for row in section.rows]
    return Table(section.title, headers, rows, section.note)


def peer_table(section: Section, medians: Medians) -> Table | None:
    """modelwire against each peer of the same shape and mode: > 1 means modelwire is better."""
    compared = [metric for metric in section.metrics if metric.compare]
    rows = []
    for row in section.rows:
        if row.library != SUBJECT or row.label not in medians:
            continue
        for peer in peers_of(section, row):
            if peer.label in medians:
                ratios = [
                    _ratio(m, medians[row.label][m.key], medians[peer.label][m.key])
                    for m in compared
                ]
                rows.append([row.label, peer.label, *ratios])
    if not rows:
        return None
    headers = ["modelwire row", "peer", *(f"{m.title} vs peer" for m in compared)]
    return Table(
        f"{section.title}: modelwire vs peers", headers, rows, "> 1 means modelwire is better."
    )


def render_text(table: Table) -> str:
    grid = [list(table.headers), *[list(row) for row in table.rows]]
    count = max(len(row) for row in grid)
    grid = [row + [""] * (count - len(row)) for row in grid]
    widths = [max(len(row[i]) for row in grid) for i in range(count)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines = [table.title, line(grid[0]), "  ".join("-" * w for w in widths)]
    lines += [line(row) for row in grid[1:]]
    if table.note:
        lines.append(table.note)
    return "\n".join(lines)


def render_markdown(table: Table) -> str:
    count = len(table.headers)
    lines = [
        f"### {table.title}",
        "",
        "| " + " | ".join(table.headers) + " |",
        "| --- |" + " ---: |" * (count - 1),
    ]
    for row in table.rows:
        cells = [cell.replace("|", "\\|") for cell in row] + [""] * (count - len(row))
        lines.append("| " + " | ".join(cells) + " |")
    if table.note:
        lines += ["", table.note]
    return "\n".join(lines)
