"""Reading and checking packages: the manifest, the files it names, no code, safe zips."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from builder.errors import ValidationFailed
from builder.market.package import load, read_folder, read_zip, to_zip
from tests.market.packages import manifest, sales_app, write_package


def files(**overrides):
    content = {"manifest.json": json.dumps(manifest()).encode(),
               "app.json": json.dumps(sales_app()).encode(),
               "data/seed.json": b"{}", "data/demo.json": b"{}",
               "screenshots/list.png": b"png"}
    content.update(overrides)
    return {k: v for k, v in content.items() if v is not None}


def problems(error):
    return {p.path: p.code for p in error.value.details}


def test_a_package_reads_from_a_folder_and_round_trips_through_a_zip(tmp_path):
    package = read_folder(write_package(tmp_path / "kit", sales_app()))
    assert package.key == "sales_kit" and package.version == "1.0.0"
    again = read_zip(to_zip(package))
    assert again.manifest == package.manifest
    assert {k: v for k, v in again.files.items() if k != "manifest.json"} == {
        k: v for k, v in package.files.items() if k != "manifest.json"}
    assert again.apps() == [sales_app()]


def test_the_manifest_is_checked_with_paths():
    bad = manifest(version="1.0")
    bad["title"] = {"zh-CN": "只有中文"}
    del bad["apps"]
    with pytest.raises(ValidationFailed) as error:
        load(files(**{"manifest.json": json.dumps(bad).encode()}))
    assert problems(error) == {"manifest.version": "version", "manifest.title":
                               "language_required", "manifest.apps": "no_apps"}


def test_files_named_by_the_manifest_must_exist_and_code_is_refused():
    with pytest.raises(ValidationFailed) as error:
        load(files(**{"data/demo.json": None}))
    assert problems(error) == {"manifest.demo": "missing_file"}
    with pytest.raises(ValidationFailed) as error:
        load(files(**{"hooks/setup.py": b"import os"}))
    assert problems(error) == {"hooks/setup.py": "code"}


def test_bad_json_names_its_line():
    package = load(files(**{"app.json": b'{"format": 1,\n "key": }'}))
    with pytest.raises(ValidationFailed) as error:
        package.apps()
    [problem] = error.value.details
    assert (problem.path, problem.code) == ("app.json", "bad_json")
    assert "2" in problem.message


def test_includes_inline_other_files():
    definition = sales_app()
    definition["print_templates"] = [{"key": "card", "title": {"zh-CN": "卡片"},
                                      "entity": "customer",
                                      "template": {"$file": "print/card.html"}}]
    definition["metrics"] = {"$file": "parts/metrics.json"}
    package = load(files(**{"app.json": json.dumps(definition).encode(),
                            "print/card.html": b"<h1>{{ record.name }}</h1>",
                            "parts/metrics.json": json.dumps(sales_app()["metrics"]).encode()}))
    [app] = package.apps()
    assert app["print_templates"][0]["template"] == "<h1>{{ record.name }}</h1>"
    assert app["metrics"] == sales_app()["metrics"]


def test_a_zip_cannot_reach_outside_the_package():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files().items():
            archive.writestr(name, content)
        archive.writestr("../evil.json", b"{}")
    with pytest.raises(ValidationFailed) as error:
        read_zip(out.getvalue())
    assert problems(error) == {"../evil.json": "bad_path"}
    with pytest.raises(ValidationFailed) as error:
        read_zip(b"not a zip", "upload.zip")
    assert problems(error) == {"upload.zip": "not_a_zip"}


def test_a_zip_with_one_top_folder_is_accepted():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files().items():
            archive.writestr(f"sales_kit/{name}", content)
    assert read_zip(out.getvalue()).key == "sales_kit"
