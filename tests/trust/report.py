"""The table ``make trust`` prints: the figures the proofs recorded (``figures.record``),
summed by proof, and a total. Exits 1 when any leak, violation, 5xx or lost record was
recorded, or when no figure was recorded at all.

``python -m tests.trust.report FIGURES.jsonl``
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from tests.trust.figures import COLUMNS

HEADINGS = {
    "routes_probed": "routes probed", "probes_sent": "probes sent", "leaks": "leaks",
    "violations": "violations", "examples_tried": "examples tried", "server_errors": "5xx",
    "faults_injected": "faults injected", "records_lost": "records lost",
}
MUST_BE_ZERO = ("leaks", "violations", "server_errors", "records_lost")


def aggregate(lines: list[str]) -> dict[str, dict[str, int]]:
    """proof -> column -> sum of what its calls recorded (columns it never recorded are
    left out)."""
    totals: dict[str, dict[str, int]] = defaultdict(dict)
    for line in lines:
        if not line.strip():
            continue
        entry = json.loads(line)
        proof = entry.pop("proof")
        for column, value in entry.items():
            totals[proof][column] = totals[proof].get(column, 0) + int(value)
    return dict(sorted(totals.items()))


def table(totals: dict[str, dict[str, int]]) -> str:
    rows = [["proof", *(HEADINGS[c] for c in COLUMNS)]]
    for proof, figures in totals.items():
        rows.append([proof, *(str(figures[c]) if c in figures else "-" for c in COLUMNS)])
    rows.append(["total", *(str(sum(f.get(c, 0) for f in totals.values())) for c in COLUMNS)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for number, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(
            row[1:], widths[1:], strict=True)]
        out.append("  ".join(cells))
        if number in (0, len(rows) - 2):
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def failures(totals: dict[str, dict[str, int]]) -> list[str]:
    return [f"{proof}: {HEADINGS[c]} = {figures[c]}" for proof, figures in totals.items()
            for c in MUST_BE_ZERO if figures.get(c, 0) > 0]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.trust.report FIGURES.jsonl", file=sys.stderr)
        return 2
    path = Path(argv[0])
    totals = aggregate(path.read_text(encoding="utf-8").splitlines() if path.exists() else [])
    if not totals:
        print("error: the trust proofs recorded no figures", file=sys.stderr)
        return 1
    print(table(totals))
    bad = failures(totals)
    for line in bad:
        print(f"FAILED {line}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
