"""The figures table of ``make trust``: sums by proof, a total, and a failing exit when a
figure that must be zero is not."""

from __future__ import annotations

import json

from tests.trust import report


def write(path, *entries):
    path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    return str(path)


def test_figures_are_summed_by_proof_with_a_total(tmp_path, capsys):
    figures = write(tmp_path / "f.jsonl",
                    {"proof": "load", "probes_sent": 600, "server_errors": 0},
                    {"proof": "faults.import", "faults_injected": 4, "records_lost": 0},
                    {"proof": "faults.import", "faults_injected": 3, "records_lost": 0})
    assert report.main([figures]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["proof", "routes", "probed"]
    imported = next(line for line in lines if line.startswith("faults.import")).split()
    assert imported == ["faults.import", "-", "-", "-", "-", "-", "-", "7", "0"]
    assert lines[-1].split() == ["total", "0", "600", "0", "0", "0", "0", "7", "0"]


def test_a_leak_a_5xx_or_a_lost_record_fails_the_run(tmp_path, capsys):
    for bad in ({"leaks": 1}, {"server_errors": 2}, {"records_lost": 1}, {"violations": 3}):
        figures = write(tmp_path / "f.jsonl", {"proof": "p", "probes_sent": 5, **bad})
        assert report.main([figures]) == 1
        assert "FAILED p:" in capsys.readouterr().err


def test_no_figures_at_all_is_a_failure(tmp_path, capsys):
    assert report.main([str(tmp_path / "missing.jsonl")]) == 1
    assert "no figures" in capsys.readouterr().err
