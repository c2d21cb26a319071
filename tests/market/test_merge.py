"""Three-way merge of definitions, keyed by stable keys."""

from __future__ import annotations

from builder.market.merge import atomic_properties, merge


def fields(*keys_titles):
    return [{"key": k, "type": "text", "title": {"zh-CN": t}} for k, t in keys_titles]


def test_changes_from_either_side_are_taken():
    base = {"title": {"zh-CN": "旧"}, "fields": fields(("a", "甲"), ("b", "乙"))}
    ours = {"title": {"zh-CN": "旧"}, "fields": fields(("a", "甲甲"), ("b", "乙"), ("mine", "我"))}
    theirs = {"title": {"zh-CN": "新"}, "fields": fields(("a", "甲"), ("new", "新"), ("b", "乙"))}
    merged, conflicts = merge(base, ours, theirs)
    assert conflicts == []
    assert merged["title"] == {"zh-CN": "新"}
    assert [(f["key"], f["title"]["zh-CN"]) for f in merged["fields"]] == [
        ("a", "甲甲"), ("new", "新"), ("b", "乙"), ("mine", "我")]


def test_a_value_changed_on_both_sides_keeps_ours_and_is_reported():
    base = {"stages": [{"key": "won", "title": {"zh-CN": "赢单", "en": "Won"}}]}
    ours = {"stages": [{"key": "won", "title": {"zh-CN": "签约", "en": "Won"}}]}
    theirs = {"stages": [{"key": "won", "title": {"zh-CN": "成交", "en": "Closed"}}]}
    merged, conflicts = merge(base, ours, theirs)
    assert merged["stages"][0]["title"] == {"zh-CN": "签约", "en": "Closed"}
    [conflict] = conflicts
    assert (conflict.path, conflict.ours, conflict.theirs, conflict.base) == (
        "stages.won.title.zh-CN", "签约", "成交", "赢单")
    assert conflict.as_dict("en")["message"].startswith("stages.won.title.zh-CN: changed")


def test_removals_against_changes_are_conflicts():
    base = {"items": [{"key": "a", "n": 1}, {"key": "b", "n": 1}, {"key": "c", "n": 1}]}
    ours = {"items": [{"key": "a", "n": 2}, {"key": "c", "n": 1}]}  # changed a, removed b
    theirs = {"items": [{"key": "b", "n": 3}]}  # removed a and c, changed b
    merged, conflicts = merge(base, ours, theirs)
    assert merged["items"] == [{"key": "a", "n": 2}]  # ours changed a: kept; c: removed
    assert {(c.path, c.reason) for c in conflicts} == {
        ("items.a", "removed_by_package"), ("items.b", "removed_by_tenant")}


def test_rules_merge_whole_and_key_lists_as_ordered_sets():
    assert {"rule", "filter", "when", "entry", "default"} <= atomic_properties()
    base = {"filter": {"==": [{"var": "x"}, 1]}, "columns": ["a", "b", "c"]}
    ours = {"filter": {"==": [{"var": "x"}, 2]}, "columns": ["a", "c", "mine"]}
    theirs = {"filter": {"!=": [{"var": "x"}, 1]}, "columns": ["a", "b", "c", "theirs"]}
    merged, conflicts = merge(base, ours, theirs)
    assert merged["filter"] == {"==": [{"var": "x"}, 2]}
    assert [c.path for c in conflicts] == ["filter"]
    assert merged["columns"] == ["a", "c", "theirs", "mine"]


def test_nothing_changed_on_our_side_gives_theirs():
    base = {"key": "x", "entities": [{"key": "e", "fields": fields(("a", "甲"))}]}
    theirs = {"key": "x", "entities": [{"key": "e", "fields": fields(("a", "甲"), ("b", "乙"))}],
              "metrics": [{"key": "m", "aggregate": "count", "entity": "e"}]}
    assert merge(base, base, theirs) == (theirs, [])
