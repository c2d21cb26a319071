"""``effects`` and ``thresholds`` in the definition: shapes, and every reference checked
by the linker at its JSON path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from builder.schema import check_definition, link, validate_definition
from builder.schema.diff import diff
from tests.runtime.effects.helpers import shop_app


def codes(data: Any) -> dict[str, set[str]]:
    _, problems = check_definition(data)
    found: dict[str, set[str]] = {}
    for problem in problems:
        found.setdefault(problem.path, set()).add(problem.code)
    return found


def test_the_shop_links_cleanly() -> None:
    app = validate_definition(shop_app())
    assert link(app) == []
    assert app["effects"][0]["if_missing"] == "refuse"


Change = Callable[[dict[str, Any]], None]


def _sale(app: dict[str, Any]) -> dict[str, Any]:
    return app["effects"][0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("change", "path", "code"), [
    (lambda a: _sale(a).update(entity="nowhere"), "effects[0].entity", "unknown_entity"),
    (lambda a: _sale(a).update(field="sku"), "effects[0].field", "field_type"),
    (lambda a: _sale(a).update(field="nothing"), "effects[0].field", "unknown_field"),
    (lambda a: _sale(a)["target"]["match"].update(shelf={"var": "sku"}),
     "effects[0].target.match.shelf", "unknown_field"),
    (lambda a: _sale(a)["target"]["match"].update(store={"var": "$parent.shop"}),
     "effects[0].target.match.store.var", "unknown_field"),
    (lambda a: _sale(a).update(delta={"-": [{"var": "amount"}]}),
     "effects[0].delta.-[0].var", "unknown_field"),
    (lambda a: _sale(a).update(min="safetyy"), "effects[0].min", "unknown_field"),
    (lambda a: _sale(a).update(max=True), "effects[0].max", "effect_bound"),
    (lambda a: _sale(a).update(override="store.name"), "effects[0].override", "field_type"),
    (lambda a: _sale(a).update(override="sku.allow_backorder"), "effects[0].override",
     "unknown_field"),
    (lambda a: _sale(a).update(override="Store"), "effects[0].override", "effect_override"),
    (lambda a: _sale(a).update(if_missing="create"), "effects[0].if_missing", "one_of"),
    (lambda a: _sale(a).update(source_field="nope"), "effects[0].source_field",
     "unknown_field"),
    (lambda a: _sale(a)["target"].update(relation="sku"), "effects[0].target",
     "effect_target"),
    (lambda a: a["effects"][1].update(target={"relation": "qty"}),
     "effects[1].target.relation", "field_type"),
    (lambda a: a["effects"][1].update(when={"var": "$parent.store"}),
     "effects[1].when.var", "effect_no_parent"),
    (lambda a: a["effects"].append(dict(_sale(a))), "effects[2].key", "duplicate_key"),
    (lambda a: a["thresholds"][0].update(field="low"), "thresholds[0].field", "field_kind"),
    (lambda a: a["thresholds"][0].update(flag="qty"), "thresholds[0].flag", "field_type"),
    (lambda a: a["thresholds"][0].update(below="five"), "thresholds[0].below",
     "threshold_below"),
    (lambda a: a["thresholds"][0].update(below={"var": "safe"}),
     "thresholds[0].below.var", "unknown_field"),
    (lambda a: a["thresholds"][0]["alert"].update(entity="nowhere"),
     "thresholds[0].alert.entity", "unknown_entity"),
    (lambda a: a["thresholds"][0]["alert"]["set"].update(level={"var": "qty"}),
     "thresholds[0].alert.set.level", "unknown_field"),
])
def test_each_broken_reference_is_reported_at_its_path(change: Change, path: str,
                                                       code: str) -> None:
    app = shop_app()
    change(app)
    found = codes(app)
    assert code in found.get(path, set()), found


def test_effects_and_thresholds_show_in_the_publish_plan() -> None:
    old = shop_app()
    new = shop_app()
    _sale(new)["min"] = -5
    new["thresholds"] = []
    kinds = {(c.op, c.kind, c.path) for c in diff(old, new)}
    assert ("change", "effect", ("sale",)) in kinds
    assert ("remove", "threshold", ("low_stock",)) in kinds
