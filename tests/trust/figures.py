"""The figures the trust proofs report.

Each proof calls :func:`record` with what it did and what it found, e.g.
``record("isolation", routes_probed=61, probes_sent=1830, leaks=0)``. When
``TRUST_FIGURES`` names a file (``make trust`` sets it), every call appends one JSON line
there; otherwise the call does nothing, so the proofs run the same in the plain suite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# The columns of the table ``make trust`` prints, in order.
COLUMNS = (
    "routes_probed",
    "probes_sent",
    "leaks",
    "violations",
    "examples_tried",
    "server_errors",
    "faults_injected",
    "records_lost",
)


def record(proof: str, **figures: int) -> None:
    """Append ``figures`` of ``proof`` to the figures file, if there is one."""
    unknown = set(figures) - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown trust figures: {sorted(unknown)}")
    target = os.environ.get("TRUST_FIGURES")
    if not target:
        return
    line = json.dumps({"proof": proof, **figures}, ensure_ascii=False)
    with Path(target).open("a", encoding="utf-8") as out:
        out.write(line + "\n")
