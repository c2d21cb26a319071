"""Photos stamped with the time and place they were taken (现场照片水印).

``POST /api/files?stamp=true`` with the photo and ``place`` (what the phone knows: an
address or a site name) and/or ``latitude``/``longitude`` draws a strip at the bottom of
the picture: the server's time in the tenant's zone and the place. The stamp cannot be
taken off the picture, and its facts are kept inside the PNG, signed with the
installation's secret over the picture's pixels, so the server can tell its own stamp from
a copy or an edit.

An image field with ``"stamp": true`` accepts only such photos: any other file is refused
with ``not_stamped`` at its path (``photos[1]``), in the user's language. Only new values
are checked: a record keeps the photos it already has.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from builder import clock
from builder.errors import NotFound, Problem, ValidationFailed
from builder.i18n import gettext
from builder.runtime.records import events, files
from builder.runtime.rules.dates import DEFAULT_TIMEZONE

CHUNK_KEY = "builder-stamp"
GUARD = "stamps.photos"
MAX_PIXELS = 40_000_000
FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
         "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
         "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _refuse(path: str, key: str, code: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(gettext("records.error.file_invalid"),
                            [Problem(path, gettext(key, **params), code)])


def _font(size: int) -> Any:
    from PIL import ImageFont

    for candidate in FONTS:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def _signature(pixels: bytes, facts: Mapping[str, Any]) -> str:
    secret = str(current_app.config.get("SECRET_KEY") or "")
    message = hashlib.sha256(pixels).hexdigest() + json.dumps(facts, sort_keys=True,
                                                               ensure_ascii=False)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _coordinate(value: Any, limit: float, name: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _refuse(name, "stamps.error.coordinate", "invalid", limit=limit) from None
    if not -limit <= number <= limit:
        raise _refuse(name, "stamps.error.coordinate", "invalid", limit=limit)
    return round(number, 6)


def stamp(content: bytes, place: str | None, latitude: Any = None, longitude: Any = None,
          moment: datetime | None = None, timezone: str = DEFAULT_TIMEZONE
          ) -> tuple[bytes, dict[str, Any]]:
    """The photo with its time-and-place strip, as PNG, and the facts stamped on it."""
    from PIL import Image, ImageDraw, UnidentifiedImageError

    lat = _coordinate(latitude, 90, "latitude")
    lng = _coordinate(longitude, 180, "longitude")
    place = (place or "").strip()[:120]
    if not place and (lat is None or lng is None):
        raise _refuse("place", "stamps.error.no_place", "required")
    try:
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        opened = Image.open(io.BytesIO(content))
        opened.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise _refuse("file", "records.error.not_an_image", "not_image") from None
    moment = (moment or clock.now()).astimezone(ZoneInfo(timezone))
    facts = {"at": moment.isoformat(timespec="seconds"), "place": place,
             "latitude": lat, "longitude": lng}
    picture = opened.convert("RGB")
    width, height = picture.size
    size = max(12, width // 40)
    where = place or ""
    if lat is not None and lng is not None:
        where = f"{where} ({lat:.5f}, {lng:.5f})".strip()
    text = f"{moment:%Y-%m-%d %H:%M} {where}"
    font = _font(size)
    strip = size * 2
    canvas = Image.new("RGB", (width, height + strip), (0, 0, 0))
    canvas.paste(picture, (0, 0))
    ImageDraw.Draw(canvas).text((size // 2, height + size // 2), text, fill=(255, 255, 255),
                                font=font)
    facts["signature"] = _signature(canvas.tobytes(), facts)
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(CHUNK_KEY, json.dumps(facts, ensure_ascii=False))
    out = io.BytesIO()
    canvas.save(out, "PNG", pnginfo=info)
    return out.getvalue(), {k: v for k, v in facts.items() if k != "signature"}


def read_stamp(path: Path) -> dict[str, Any] | None:
    """The facts of a photo this installation stamped, or ``None`` (no stamp, a copy with
    other pixels, or a forged one)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as picture:
            raw = picture.info.get(CHUNK_KEY) if picture.format == "PNG" else None
            if not isinstance(raw, str):
                return None
            pixels = picture.convert("RGB").tobytes()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return None
    try:
        facts = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(facts, dict):
        return None
    signature = facts.pop("signature", None)
    if not isinstance(signature, str) or not hmac.compare_digest(
            signature, _signature(pixels, facts)):
        return None
    return facts


def save_stamped(tenant_id: int, user_id: int | None, stream: IO[bytes], filename: str | None,
                 place: str | None, latitude: Any, longitude: Any) -> dict[str, Any]:
    """Stamp an uploaded photo and store it; the descriptor carries ``stamp``."""
    limit = files.max_upload_bytes()
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise _refuse("file", "records.error.file_too_large", "too_large",
                      max_mb=round(limit / 1024 / 1024, 1))
    stamped, facts = stamp(content, place, latitude, longitude)
    stem = (filename or "photo").rsplit(".", 1)[0]
    descriptor = files.save_upload(tenant_id, user_id, io.BytesIO(stamped), f"{stem}.png",
                                   "image/png", image_only=True)
    return {**descriptor, "stamp": facts}


def refuse_unstamped(change: events.RecordChange) -> None:
    """Guard: new photos of ``stamp`` image fields must carry this server's stamp."""
    if change.action not in (events.CREATE, events.UPDATE) or change.engine is not None:
        return
    problems: list[Problem] = []
    _check(change.store.fields, change.store.key, change.stores, change.after, change.before,
           "", problems, change.tenant_id)
    if problems:
        raise ValidationFailed(gettext("records.error.invalid"), problems)


def _check(fields: Mapping[str, Mapping[str, Any]], entity: str, stores: Mapping[str, Any],
           after: Mapping[str, Any], before: Mapping[str, Any] | None, prefix: str,
           problems: list[Problem], tenant_id: int) -> None:
    for key, field in fields.items():
        if field.get("type") == "subtable" and field.get("entity") in stores:
            child = stores[field["entity"]]
            previous = {r.get("id"): r for r in (before or {}).get(key) or []}
            for index, row in enumerate(after.get(key) or []):
                _check(child.fields, child.key, stores, row, previous.get(row.get("id")),
                       f"{prefix}{key}[{index}].", problems, tenant_id)
            continue
        if field.get("type") != "image" or not field.get("stamp"):
            continue
        kept = {str(f.get("id")) for f in (before or {}).get(key) or [] if isinstance(f, Mapping)}
        for index, item in enumerate(after.get(key) or []):
            file_id = str(item.get("id")) if isinstance(item, Mapping) else str(item)
            if file_id in kept:
                continue
            try:
                _desc, path = files.open_file(tenant_id, file_id)
            except NotFound:  # a missing file is reported by validation
                continue
            if read_stamp(path) is None:
                problems.append(Problem(f"{prefix}{key}[{index}]",
                                        gettext("stamps.error.not_stamped"), "not_stamped"))


def init_app(app: Flask) -> None:
    events.record_hooks.guard(GUARD, priority=60)(refuse_unstamped)
