"""HTTP for uploaded files: ``POST /api/files`` (multipart, field ``file``) and
``GET /api/files/<id>``. A file id of another tenant is a 404, like an unknown one, and so
is a file the caller reaches through no record they may read (``access.can_read_file``).

Attachment and image fields take the returned ids: ``{"logo": ["<id>"]}``.
"""

from __future__ import annotations

from typing import Any

from flask import Response, send_file
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from builder.errors import NotFound
from builder.extensions import db
from builder.i18n import gettext
from builder.platform.auth import require_user
from builder.runtime import access
from builder.runtime.records import files, stamps

blp = Blueprint("files", __name__, url_prefix="/api/files",
                description="Uploads for attachment and image fields")


class UploadSchema(Schema):
    file = Upload(required=True)


class UploadArgsSchema(Schema):
    image = fields.Boolean(load_default=False,
                           metadata={"description": "Refuse anything but an image"})
    stamp = fields.Boolean(load_default=False, metadata={
        "description": "A photo: stamp it with the time and place (for image fields with "
                       "``stamp``); needs ``place`` or ``latitude`` and ``longitude``"})
    place = fields.String(metadata={"description": "Where the photo was taken"})
    latitude = fields.String()
    longitude = fields.String()


class FileSchema(Schema):
    id = fields.String()
    name = fields.String()
    size = fields.Integer()
    content_type = fields.String()
    stamp = fields.Dict(metadata={"description": "Time and place stamped on a photo"})


@blp.route("", methods=["POST"])
@blp.arguments(UploadArgsSchema, location="query")
@blp.arguments(UploadSchema, location="files")
@blp.response(201, FileSchema)
def upload(args: dict[str, Any], body: dict[str, Any]) -> Any:
    """Upload a file (25 MB at most by default); returns its descriptor."""
    user = require_user()
    upload = body["file"]
    if args["stamp"]:
        descriptor = stamps.save_stamped(user.tenant_id, user.id, upload.stream,
                                         upload.filename, args.get("place"),
                                         args.get("latitude"), args.get("longitude"))
    else:
        descriptor = files.save_upload(user.tenant_id, user.id, upload.stream,
                                       upload.filename, upload.mimetype,
                                       image_only=args["image"])
    db.session.commit()
    return descriptor


@blp.route("/<file_id>", methods=["GET"])
@blp.response(200, description="The file's bytes, with its original name")
def download(file_id: str) -> Response:
    """Download a file of the caller's tenant, reachable through a record they may read
    (or uploaded by them)."""
    user = require_user()
    descriptor, path = files.open_file(user.tenant_id, file_id)
    if not access.can_read_file(user, descriptor["id"]):
        raise NotFound(gettext("records.error.file_not_found"))
    inline = files.is_image(descriptor)
    response = send_file(path, mimetype=descriptor["content_type"], as_attachment=not inline,
                         download_name=descriptor["name"], max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
