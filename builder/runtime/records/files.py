"""Uploaded files: stored under ``<files_dir>/<tenant_id>/<uuid>``, described in the tenant's
``files`` table, referenced by attachment and image fields through their id.

The stored name on disk is a fresh UUID, never the client's name, so no upload can
escape its folder; the original name is kept (cleaned) for downloads. Content types of
images are sniffed from the bytes, not trusted from the client.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app

from builder.errors import NotFound, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.storage.tenancy import system_tables

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
CHUNK = 64 * 1024
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
_IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)


def _table(tenant_id: int) -> sa.Table:
    return system_tables(tenant_id, db.session.get_bind().dialect.name)[2]


def files_root() -> Path:
    config = current_app.config.get("BUILDER")
    root = getattr(config, "files_dir", None) or Path(current_app.instance_path) / "files"
    return Path(root)


def max_upload_bytes() -> int:
    config = current_app.config.get("BUILDER")
    extra = getattr(config, "extra", None) or {}
    return int(extra.get("max_upload_bytes") or current_app.config.get("MAX_UPLOAD_BYTES")
               or DEFAULT_MAX_BYTES)


def safe_name(name: str | None) -> str:
    """A display name without folders, control characters or characters files can't hold."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("_", text).strip(" .")
    if len(text) > 200:
        stem, dot, ext = text.rpartition(".")
        text = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) < 16 else text[:200]
    return text or "file"


def sniff_image(head: bytes) -> str | None:
    for signature, content_type in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _content_type(head: bytes, declared: str | None) -> str:
    image = sniff_image(head)
    if image:
        return image
    declared = (declared or "").split(";", 1)[0].strip().lower()
    if not declared or declared.startswith("image/") or "html" in declared or \
            not re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", declared):
        # never trust a claimed image (or markup) that the bytes do not confirm
        return "application/octet-stream"
    return declared


def descriptor(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "size": int(row["size"]),
            "content_type": row["content_type"]}


def save_upload(tenant_id: int, user_id: int | None, stream: IO[bytes], filename: str | None,
                declared_type: str | None = None, *, image_only: bool = False) -> dict[str, Any]:
    """Store an upload for the tenant and return its descriptor ``{id, name, size, content_type}``.

    Refuses (422, path ``file``) an empty file, one over the size limit, and a non-image
    when ``image_only``. The caller commits.
    """
    limit = max_upload_bytes()
    file_id = str(uuid.uuid4())
    relative = f"{int(tenant_id)}/{file_id}"
    folder = files_root() / str(int(tenant_id))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file_id
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with open(target, "xb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise ValidationFailed(gettext("records.error.file_invalid"), [Problem(
                        "file", gettext("records.error.file_too_large",
                                        max_mb=round(limit / 1024 / 1024, 1)), "too_large")])
                if len(head) < 32:
                    head += chunk[: 32 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ValidationFailed(gettext("records.error.file_invalid"), [Problem(
                "file", gettext("records.error.file_empty"), "empty")])
        content_type = _content_type(head, declared_type)
        if image_only and not content_type.startswith("image/"):
            raise ValidationFailed(gettext("records.error.file_invalid"), [Problem(
                "file", gettext("records.error.not_an_image"), "not_image")])
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    row = {"id": file_id, "name": safe_name(filename), "size": size,
           "content_type": content_type, "path": relative, "sha256": digest.hexdigest(),
           "uploaded_by": user_id, "uploaded_at": datetime.now(UTC)}
    db.session.execute(sa.insert(_table(tenant_id)).values(**row))
    return descriptor(row)


def _is_file_id(value: Any) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def describe_files(tenant_id: int, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Descriptors of the tenant's files among ``ids``; unknown ids are simply absent."""
    wanted = sorted({i.lower() for i in ids if _is_file_id(i)})
    if not wanted:
        return {}
    table = _table(tenant_id)
    rows = db.session.execute(sa.select(table).where(table.c.id.in_(wanted))).mappings()
    return {row["id"]: descriptor(row) for row in rows}


def open_file(tenant_id: int, file_id: str) -> tuple[dict[str, Any], Path]:
    """The descriptor and the path on disk of a tenant's file, or ``NotFound``."""
    found = describe_files(tenant_id, [file_id])
    if not found:
        raise NotFound(gettext("records.error.file_not_found"))
    table = _table(tenant_id)
    relative = db.session.execute(sa.select(table.c.path).where(
        table.c.id == file_id.lower())).scalar_one()
    root = files_root().resolve()
    path = (root / relative).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound(gettext("records.error.file_not_found"))
    return next(iter(found.values())), path


def is_image(desc: Mapping[str, Any]) -> bool:
    return str(desc.get("content_type", "")).startswith("image/")


def accepts(field: Mapping[str, Any], desc: Mapping[str, Any]) -> bool:
    """Whether a file fits the field's ``accept`` list (``.pdf``, ``image/*``, ``text/csv``)."""
    accept = field.get("accept")
    if not accept:
        return True
    patterns = accept if isinstance(accept, list) else str(accept).split(",")
    name = str(desc.get("name", "")).lower()
    content_type = str(desc.get("content_type", "")).lower()
    for pattern in (str(p).strip().lower() for p in patterns):
        if not pattern:
            continue
        if pattern.startswith(".") and name.endswith(pattern):
            return True
        if pattern.endswith("/*") and content_type.startswith(pattern[:-1]):
            return True
        if pattern == content_type:
            return True
    return False
