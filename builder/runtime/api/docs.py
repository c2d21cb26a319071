"""A self-contained API reference page at ``/api/docs``, rendered from the OpenAPI document.

It needs no script or stylesheet from elsewhere, so it works on a machine without internet.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template_string

from builder.extensions import api

blp = Blueprint("api_docs", __name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ info.title }} {{ info.version }}</title>
<style>
body{font:14px/1.5 system-ui,"Noto Sans CJK SC",sans-serif;margin:2rem auto;
     max-width:64rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.op{margin:.6rem 0;padding:.5rem .8rem;border:1px solid #e3e3e3;border-radius:6px}
.m{display:inline-block;min-width:4.5rem;font-weight:600;text-transform:uppercase}
.get{color:#0a7}.post{color:#07c}.put,.patch{color:#a60}.delete{color:#c22}
code{background:#f5f5f5;padding:0 .3rem;border-radius:3px}.d{color:#555;margin:.3rem 0 0}
</style></head><body>
<h1>{{ info.title }} <small>{{ info.version }}</small></h1>
<p>Machine-readable: <a href="{{ spec_url }}"><code>{{ spec_url }}</code></a>.
Authenticate with <code>POST /api/auth/login</code>, then send
<code>Authorization: Bearer &lt;token&gt;</code>. Errors have the shape
<code>{"error": {"code", "message", "details": [{"path", "message"}]}}</code>.</p>
{% for tag, ops in groups %}<h2>{{ tag }}</h2>
{% for op in ops %}<div class="op"><span class="m {{ op.method }}">{{ op.method }}</span>
<code>{{ op.path }}</code>{% if op.summary %}<p class="d">{{ op.summary }}</p>{% endif %}
{% if op.params %}<p class="d">Parameters:
{% for p in op.params %}<code>{{ p }}</code> {% endfor %}</p>{% endif %}
</div>{% endfor %}{% endfor %}
</body></html>"""


def _groups(spec: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in sorted(spec.get("paths", {}).items()):
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            params = [p["name"] for p in op.get("parameters", []) + item.get("parameters", [])
                      if isinstance(p, dict) and "name" in p]
            tag = (op.get("tags") or ["api"])[0]
            groups.setdefault(tag, []).append({
                "method": method, "path": path, "params": params,
                "summary": op.get("summary") or op.get("description", ""),
            })
    return sorted(groups.items())


@blp.route("/api/docs")
def docs() -> str:
    spec = api.spec.to_dict()
    return render_template_string(PAGE, info=spec.get("info", {}), groups=_groups(spec),
                                  spec_url="/api/openapi.json")
