"""On a fresh machine `make run` builds the web app first, and no built file is committed:
checked on a clone of the committed tree, as a new developer would get it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("git and make are needed")
    inside = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--is-inside-work-tree"],
                            capture_output=True, text=True, check=False)
    if inside.stdout.strip() != "true":
        pytest.skip("not a git checkout")
    target = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--depth", "1", f"file://{ROOT}", str(target)],
                   check=True, capture_output=True)
    return target


def test_no_built_file_is_committed(clone: Path) -> None:
    files = subprocess.run(["git", "-C", str(clone), "ls-files"], check=True,
                           capture_output=True, text=True).stdout.splitlines()
    built = [f for f in files if f.startswith(("frontend/dist/", "frontend/node_modules/"))]
    assert built == []
    assert not (clone / "frontend" / "dist").exists()
    assert (clone / "frontend" / "package-lock.json").is_file()  # npm ci installs exactly


def test_make_run_builds_the_web_app_before_serving(clone: Path) -> None:
    plan = subprocess.run(["make", "-n", "run"], cwd=clone, check=True, capture_output=True,
                          text=True).stdout.splitlines()
    steps = [line.strip() for line in plan]

    def where(text: str) -> int:
        return next(i for i, line in enumerate(steps) if text in line)

    assert where("npm ci") < where("npm run build") < where("builder serve")
