"""Schemas of the document parts of an app: print templates."""

from __future__ import annotations

from marshmallow import validate

from builder.schema.common import JsonLogic, Key, LanguageMap, OneOf, Str, StrictSchema

PAPERS = ("A4", "A5", "Letter")
MAX_TEMPLATE = 200_000


class PrintTemplateSchema(StrictSchema):
    """An HTML page with placeholders (``{{ record.customer }}``, ``{% for line in
    record.lines %}``) printed to PDF for one record of ``entity``."""

    key = Key(required=True)
    title = LanguageMap(required=True)
    entity = Key(required=True)
    template = Str(required=True, validate=validate.Length(min=1, max=MAX_TEMPLATE))
    paper = Str(load_default="A4", validate=OneOf(*PAPERS))
    landscape = Str(load_default="portrait", validate=OneOf("portrait", "landscape"))
    #: JsonLogic the record must meet to be printed (a quote only once it is approved)
    when = JsonLogic()
    when_message = LanguageMap()
