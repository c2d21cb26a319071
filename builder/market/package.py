"""Market packages: a folder of data (or a zip of one), never code.

```text
manifest.json        key, version, title, description (zh-CN and en), requires, screenshots,
                     apps (definition files), roles, teams, seed, demo and data files
app.json ...         app definitions; {"$file": "path"} anywhere inlines another file
                     (JSON is parsed, anything else is read as UTF-8 text: print templates)
data/seed.json ...   {"<app>": {"<entity>": [records]}}: records reference each other with
                     {"$ref": "entity:key"} and users with {"$user": "username"}
files/...            uploaded files that data references with {"$file": "files/..."}
```

An export writes the same layout, so whatever is exported can be installed again. A
package is read whole into memory (``Package.files``) and checked before anything is
installed: the manifest's shape, every file it names, JSON syntax, and that no file is
code. Problems name the file and the JSON path.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from marshmallow import ValidationError, validates_schema

from builder.errors import Problem, ValidationFailed
from builder.i18n import LANGUAGES, gettext
from builder.schema.common import (
    Bool,
    FreeDict,
    Int,
    Key,
    LanguageMap,
    ListOf,
    Message,
    Object,
    OneOf,
    Str,
    StrictSchema,
    invalid,
    many,
    problems_from_errors,
)

FORMAT = 1
MANIFEST = "manifest.json"
MAX_FILES = 20_000
MAX_BYTES = 1024 * 1024 * 1024
MAX_INCLUDE_DEPTH = 8
VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".so", ".dll", ".dylib", ".exe", ".sh", ".js")
DATA_SECTIONS = ("seed", "demo", "data")


def _version(value: str) -> str:
    if not VERSION.fullmatch(value):
        raise invalid("version")
    return value


def version_tuple(version: str) -> tuple[int, ...]:
    """``"1.10.0"`` → ``(1, 10, 0)``, for comparing versions."""
    match = VERSION.fullmatch(version)
    return tuple(int(p) for p in match.groups()) if match else (0, 0, 0)


def _path(value: str) -> str:
    if not safe_path(value):
        raise ValidationError([Message("market.error.bad_path", path=value)])
    return value


def safe_path(value: Any) -> bool:
    """A relative path inside the package: no root, no ``..``, no backslashes."""
    if not isinstance(value, str) or not value or "\\" in value or "\x00" in value:
        return False
    parts = PurePosixPath(value).parts
    return not value.startswith("/") and ".." not in parts and bool(parts)


def PathStr(**kwargs: Any) -> Str:
    return Str(validate=_path, **kwargs)


class BilingualMap(LanguageMap):
    """A language map that must carry every language of the product (market listings)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        loaded = super()._deserialize(value, attr, data, **kwargs)
        missing = [lang for lang in LANGUAGES if lang not in loaded]
        if missing:
            raise invalid("language_required", lang=", ".join(missing))
        return loaded


class RequiredPackageSchema(StrictSchema):
    key = Key(required=True)
    version = Str(validate=_version)


class RequiresSchema(StrictSchema):
    #: the lowest platform version the package works with
    platform = Str(validate=_version)
    packages = many(RequiredPackageSchema)


class PackageRoleSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap(required=True)
    #: usernames (exports); mapped to the target tenant's users
    members = ListOf(Str(), load_default=list)


class PackageTeamSchema(StrictSchema):
    key = Str(required=True)
    name = Str(required=True)
    parent = Str(allow_none=True)
    manager = Str(allow_none=True)
    members = ListOf(Str(), load_default=list)


class OriginSchema(StrictSchema):
    """Exports: the package an app was installed from, and that package's definition of it
    (``base``: app key → file) so the importing tenant can upgrade it later."""

    package = Key(required=True)
    version = Str(required=True, validate=_version)
    base = FreeDict(keys=Key(), values=PathStr(), required=True)
    record_keys = FreeDict(keys=Str(), load_default=dict)


class ExportedSchema(StrictSchema):
    tenant = Str(required=True)
    at = Str(required=True)
    with_data = Bool(load_default=False)


class DemoUserSchema(StrictSchema):
    """A person of a package's demo organisation (``builder.market.demo_org``)."""

    username = Str(required=True)
    display_name = Str()
    roles = ListOf(Key(), load_default=list)


class ManifestSchema(StrictSchema):
    format = Int(required=True, validate=OneOf(FORMAT))
    key = Key(required=True)
    version = Str(required=True, validate=_version)
    title = BilingualMap(required=True)
    description = BilingualMap()
    requires = Object(RequiresSchema, load_default=dict)
    screenshots = ListOf(PathStr(), load_default=list)
    apps = ListOf(PathStr(), load_default=list)
    roles = many(PackageRoleSchema)
    teams = many(PackageTeamSchema)
    #: created with the demo data (``builder.market.demo_org``)
    demo_users = many(DemoUserSchema)
    seed = ListOf(PathStr(), load_default=list)
    demo = ListOf(PathStr(), load_default=list)
    data = ListOf(PathStr(), load_default=list)
    installed_from = many(OriginSchema)
    exported = Object(ExportedSchema, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _has_apps(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("apps") and not data.get("exported"):
            raise ValidationError({"apps": [Message("market.error.no_apps")]})


@dataclass
class Package:
    """A package read into memory: its checked manifest and every file by relative path."""

    manifest: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    #: where it came from, for messages (a folder, a file name)
    origin: str = ""

    @property
    def key(self) -> str:
        return str(self.manifest["key"])

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    @property
    def is_export(self) -> bool:
        return bool(self.manifest.get("exported"))

    def json(self, path: str) -> Any:
        return parse_json(self.files[path], path)

    def text(self, path: str) -> str:
        try:
            return self.files[path].decode("utf-8")
        except UnicodeDecodeError:
            raise _invalid(path, "market.error.not_utf8") from None

    def apps(self) -> list[dict[str, Any]]:
        """The app definitions, includes resolved (not yet checked as definitions)."""
        return [self.resolve(self.json(path), path) for path in self.manifest["apps"]]

    def base_definitions(self) -> dict[str, dict[str, Any]]:
        """Exports: app key → the original package's definition, per ``installed_from``."""
        return {app: self.resolve(self.json(path), path)
                for origin in self.manifest.get("installed_from") or []
                for app, path in origin["base"].items()}

    def data_files(self, section: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(path, {app: {entity: [records]}})`` of a data section: seed, demo or data."""
        for path in self.manifest.get(section) or []:
            content = self.json(path)
            problems = _data_shape(content, path)
            if problems:
                raise ValidationFailed(gettext("market.error.invalid_package"), problems)
            yield path, content

    def resolve(self, value: Any, where: str, depth: int = 0) -> Any:
        """Replace every ``{"$file": path}`` by that file's content."""
        if isinstance(value, Mapping):
            if set(value) == {"$file"}:
                target = value["$file"]
                if depth >= MAX_INCLUDE_DEPTH or not safe_path(target) \
                        or target not in self.files:
                    raise _invalid(where, "market.error.missing_file", path=target)
                if target.endswith(".json"):
                    return self.resolve(self.json(target), target, depth + 1)
                return self.text(target)
            return {k: self.resolve(v, where, depth) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, where, depth) for v in value]
        return value


def _invalid(where: str, key: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(gettext("market.error.invalid_package"),
                            [Problem(where, gettext(key, **params), key.rsplit(".", 1)[-1])])


def parse_json(content: bytes, path: str) -> Any:
    try:
        return json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _invalid(path, "market.error.not_utf8") from None
    except json.JSONDecodeError as exc:
        raise _invalid(path, "market.error.bad_json", line=exc.lineno, column=exc.colno,
                       reason=exc.msg) from None


def _data_shape(content: Any, path: str) -> list[Problem]:
    problems: list[Problem] = []

    def bad(where: str) -> None:
        problems.append(Problem(where, gettext("market.error.bad_data_shape"), "shape"))

    if not isinstance(content, Mapping):
        bad(path)
        return problems
    for app, entities in content.items():
        if not isinstance(entities, Mapping):
            bad(f"{path}#{app}")
            continue
        for entity, records in entities.items():
            if entity == "$counters":
                if not isinstance(records, Mapping):
                    bad(f"{path}#{app}.$counters")
            elif not isinstance(records, list) or not all(isinstance(r, Mapping)
                                                          for r in records):
                bad(f"{path}#{app}.{entity}")
    return problems


def check_manifest(data: Any) -> dict[str, Any]:
    """The manifest, normalized, or ``ValidationFailed`` naming every problem."""
    if not isinstance(data, Mapping):
        raise _invalid(MANIFEST, "market.error.bad_manifest")
    try:
        loaded: dict[str, Any] = ManifestSchema().load(data)
    except ValidationError as error:
        raise ValidationFailed(gettext("market.error.invalid_package"),
                               problems_from_errors(error.messages, "manifest")) from None
    return loaded


def load(files: dict[str, bytes], origin: str = "") -> Package:
    """Check a package's files and manifest; every file the manifest names must exist."""
    problems = [Problem(path, gettext("market.error.code_file"), "code")
                for path in sorted(files) if path.lower().endswith(CODE_SUFFIXES)]
    if problems:
        raise ValidationFailed(gettext("market.error.invalid_package"), problems)
    if MANIFEST not in files:
        raise _invalid(MANIFEST, "market.error.no_manifest")
    manifest = check_manifest(parse_json(files[MANIFEST], MANIFEST))
    named = [("apps", p) for p in manifest["apps"]]
    named += [(section, p) for section in (*DATA_SECTIONS, "screenshots")
              for p in manifest[section]]
    named += [("installed_from", p) for origin_ in manifest["installed_from"]
              for p in origin_["base"].values()]
    missing = [Problem(f"manifest.{section}", gettext("market.error.missing_file", path=path),
                       "missing_file") for section, path in named if path not in files]
    if missing:
        raise ValidationFailed(gettext("market.error.invalid_package"), missing)
    return Package(manifest, files, origin)


def read_folder(folder: Path) -> Package:
    """A package from a folder (hidden files and folders are left out)."""
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if not path.is_file() or any(p.startswith(".") for p in PurePosixPath(relative).parts):
            continue
        if "__pycache__" in relative:
            continue
        content = path.read_bytes()
        total += len(content)
        if len(files) >= MAX_FILES or total > MAX_BYTES:
            raise _invalid(relative, "market.error.too_big")
        files[relative] = content
    return load(files, folder.name)


def read_zip(content: bytes, origin: str = "") -> Package:
    """A package from a zip file (as written by ``to_zip``; one top folder is allowed)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise _invalid(origin or "file", "market.error.not_a_zip") from None
    files: dict[str, bytes] = {}
    total = 0
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_FILES or sum(i.file_size for i in infos) > MAX_BYTES:
            raise _invalid(origin or "file", "market.error.too_big")
        for info in infos:
            if not safe_path(info.filename):
                raise _invalid(info.filename, "market.error.bad_path", path=info.filename)
            data = archive.read(info)
            total += len(data)
            if total > MAX_BYTES:
                raise _invalid(origin or "file", "market.error.too_big")
            files[info.filename] = data
    if MANIFEST not in files:
        tops = {PurePosixPath(p).parts[0] for p in files}
        if len(tops) == 1 and f"{next(iter(tops))}/{MANIFEST}" in files:
            prefix = f"{next(iter(tops))}/"
            files = {p[len(prefix):]: v for p, v in files.items()}
    return load(files, origin)


def to_zip(package: Package) -> bytes:
    """The package as a zip file: the folder layout, manifest first."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(package.manifest, ensure_ascii=False, indent=2))
        for path in sorted(package.files):
            if path != MANIFEST:
                archive.writestr(path, package.files[path])
    return out.getvalue()


def dump_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=False).encode("utf-8")


def market_folders(market_dir: Path) -> list[Path]:
    """The package folders of the market, by key."""
    if not market_dir.is_dir():
        return []
    return sorted(p for p in market_dir.iterdir() if (p / MANIFEST).is_file())
