"""Photos stamped with time and place on upload; image fields that accept only those."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from builder import clock
from tests.definitions import entity, field, minimal_app
from tests.runtime.records.helpers import PNG, create, problems, publish, records_url

APP = "visits"


def photo(width: int = 320, height: int = 240) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def download(client: Any, headers: dict[str, str], file_id: str) -> bytes:
    response = client.get(f"/api/files/{file_id}", headers=headers)
    data = bytes(response.data)
    response.close()
    return data


def upload(client: Any, headers: dict[str, str], content: bytes, **query: Any) -> Any:
    return client.post("/api/files", query_string=query, headers=headers,
                       data={"file": (io.BytesIO(content), "现场.jpg", "image/jpeg")},
                       content_type="multipart/form-data")


def test_a_stamped_photo_carries_time_and_place(client: Any, admin_headers: dict[str, str]
                                                ) -> None:
    publish(client, admin_headers, minimal_app(entity("visit", "拜访", "Visit", [
        field("note", "text", "备注", "Note"),
        field("photos", "image", "现场照片", "Photos", multiple=True, stamp=True),
        field("logo", "image", "标志", "Logo")]), key=APP))
    clock.travel_to(datetime(2026, 3, 8, 2, 30, tzinfo=UTC), frozen=True)
    response = upload(client, admin_headers, photo(), stamp="true", place="苏州市立医院",
                      latitude="31.3041", longitude="120.6199")
    assert response.status_code == 201, response.get_json()
    stamped = response.get_json()
    assert stamped["stamp"] == {"at": "2026-03-08T10:30:00+08:00", "place": "苏州市立医院",
                                "latitude": 31.3041, "longitude": 120.6199}
    assert stamped["content_type"] == "image/png" and stamped["name"] == "现场.png"
    picture = Image.open(io.BytesIO(download(client, admin_headers, stamped["id"])))
    assert picture.size[0] == 320 and picture.size[1] > 240  # the strip under the photo
    strip = picture.crop((0, 240, 320, picture.size[1])).convert("L")
    assert strip.getextrema()[1] > 200  # white text on the black strip

    plain = upload(client, admin_headers, PNG).get_json()
    refused = client.post(records_url("visit", APP), headers=admin_headers,
                          json={"data": {"photos": [stamped["id"], plain["id"]]}})
    assert problems(refused) == {"photos[1]": "not_stamped"}
    assert "水印" in refused.get_json()["error"]["details"][0]["message"]
    visit = create(client, admin_headers, "visit", {"photos": [stamped["id"]],
                                                    "logo": [plain["id"]]}, APP)
    assert [p["id"] for p in visit["photos"]] == [stamped["id"]]

    # a copy whose pixels were changed keeps the words but loses the stamp
    original = download(client, admin_headers, stamped["id"])
    edited = Image.open(io.BytesIO(original))
    info = edited.info
    edited.putpixel((5, 5), (255, 0, 0))
    from PIL.PngImagePlugin import PngInfo
    chunk = PngInfo()
    chunk.add_text("builder-stamp", info["builder-stamp"])
    out = io.BytesIO()
    edited.save(out, "PNG", pnginfo=chunk)
    forged = upload(client, admin_headers, out.getvalue()).get_json()
    refused = client.post(records_url("visit", APP), headers=admin_headers,
                          json={"data": {"photos": [forged["id"]]}})
    assert problems(refused) == {"photos[0]": "not_stamped"}


def test_a_stamp_needs_a_place_and_a_picture(client: Any, admin_headers: dict[str, str]
                                             ) -> None:
    missing = upload(client, admin_headers, photo(), stamp="true")
    assert problems(missing) == {"place": "required"}
    coordinates = upload(client, admin_headers, photo(), stamp="true", latitude="31.3",
                         longitude="120.6")
    assert coordinates.status_code == 201
    assert coordinates.get_json()["stamp"]["place"] == ""
    bad = upload(client, admin_headers, photo(), stamp="true", latitude="95", longitude="1")
    assert problems(bad) == {"latitude": "invalid"}
    text = client.post("/api/files", query_string={"stamp": "true", "place": "x"},
                       headers=admin_headers,
                       data={"file": (io.BytesIO(b"not a picture"), "a.jpg", "image/jpeg")},
                       content_type="multipart/form-data")
    assert problems(text) == {"file": "not_image"}
