"""Bad input over every route: schemathesis generates requests from the OpenAPI document.

A tenant admin of a tenant with two installed market packages (``crm_starter`` with its
demo data, ``store_sales`` without) calls every operation of ``/api/openapi.json`` with
``TRUST_EXAMPLES`` generated examples each (positive, negative, and positive with the path
parameters of real apps, entities and records), drawn from a fixed seed, in-process through
the WSGI app. Every answer must be below 500 and conform to the document where it declares a
schema; a refused request (4xx) must leave every table exactly as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from builder.extensions import db
from builder.platform import service
from tests.trust.figures import record

EXAMPLES = int(os.environ.get("TRUST_EXAMPLES", "4"))
SEED = 20261122
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
#: operations that end or remove what the others use: they run last
LAST = ("/uninstall", "/purge", "/api/auth/logout", "/api/auth/tokens/{token_id}")
#: tables a refused request may add to by design: the tokens this proof issues, the
#: per-endpoint rate counters and the log of inbound hook calls (refused calls included)
LOGS = {"api_tokens", "intake_rate_counters", "intake_hook_calls"}


def _install(client: Any, headers: dict[str, str]) -> None:
    for package, demo in (("crm_starter", True), ("store_sales", False)):
        response = client.post(f"/api/market/{package}/install", headers=headers,
                               json={"demo_data": demo})
        assert response.status_code == 200, response.get_json()


def _real_parameters(client: Any, headers: dict[str, str]) -> dict[str, list[str]]:
    """Values of path parameters that name real objects of the tenant."""
    apps = {"crm": ["customer", "follow_up"],
            "store_sales": ["store", "product", "sku", "member", "sales_order"]}
    ids = [str(item["id"]) for item in client.get(
        "/api/apps/crm/customer/records", headers=headers).get_json()["items"]]
    assert ids
    return {"app_key": list(apps), "entity_key": [e for es in apps.values() for e in es],
            "record_id": ids, "package": ["crm_starter", "store_sales"],
            "key": ["store_sales"], "number": ["1"], "template_key": ["receipt"]}


_VERSIONED: dict[tuple[str | None, str], bool] = {}


def _fingerprint() -> dict[str, tuple[int, int]]:
    """Row count (and sum of versions, where there are versions) of every table."""
    conn = db.session.connection()
    inspector = sa.inspect(conn)
    schemas = [None] + [s for s in inspector.get_schema_names() if s.startswith("tenant_")]
    found: dict[str, tuple[int, int]] = {}
    for schema in schemas:
        for name in inspector.get_table_names(schema=schema):
            if name in LOGS or name == "alembic_version":
                continue
            if (schema, name) not in _VERSIONED:
                _VERSIONED[schema, name] = any(  # a record version, not a package's
                    c["name"] == "version" and isinstance(c["type"], sa.Integer)
                    for c in inspector.get_columns(name, schema=schema))
            version = (sa.func.coalesce(sa.func.sum(sa.column("version")), 0)
                       if _VERSIONED[schema, name] else sa.literal(0))
            count, versions = conn.execute(sa.select(sa.func.count(), version)
                                           .select_from(sa.table(name, schema=schema))).one()
            found[f"{schema or ''}.{name}"] = (int(count), int(versions))
    db.session.commit()
    return found


def _strategy(operation: Any, real: dict[str, list[str]]) -> Any:
    names = [p.name for p in operation.path_parameters]
    strategies = [operation.as_strategy(GenerationMode.POSITIVE),
                  operation.as_strategy(GenerationMode.NEGATIVE)]
    if names and all(name in real for name in names):
        fixed = st.fixed_dictionaries({name: st.sampled_from(real[name]) for name in names})
        strategies.append(fixed.flatmap(
            lambda values: operation.as_strategy(GenerationMode.POSITIVE,
                                                 path_parameters=values)))
    return st.one_of(strategies)


def _summary(exc: Exception) -> str:
    """The failed checks of a schemathesis failure, each in a line or two."""
    found = getattr(exc, "exceptions", None) or [exc]
    return "; ".join(" ".join(str(e).split("\n")[:3])[:300] for e in found)


def _order(operation: Any) -> tuple[bool, str]:
    label = f"{operation.method.upper()} {operation.path}"
    return any(part in operation.path for part in LAST), label


def test_every_route_survives_generated_input(app: Any, client: Any, admin: Any,
                                              admin_headers: dict[str, str]) -> None:
    _install(client, admin_headers)
    real = _real_parameters(client, admin_headers)
    spec = client.get("/api/openapi.json").get_json()
    schema = schemathesis.openapi.from_dict(spec)
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=_order)
    failures: list[str] = []
    half_changes: list[str] = []
    tried = server_errors = 0

    def token() -> dict[str, str]:
        _token, secret = service.issue_token(admin, "schemathesis")
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    def check(operation: Any) -> Callable[[], None]:
        headers = token()

        @settings(max_examples=EXAMPLES, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @seed(SEED)
        @given(case=_strategy(operation, real))
        def run(case: Any) -> None:
            nonlocal tried, server_errors
            tried += 1
            before = _fingerprint()
            try:
                response = case.call(session=client, app=app, headers=headers)
            except Exception as exc:  # an unhandled error is a 500 in production
                server_errors += 1
                failures.append(f"{operation.label}: {type(exc).__name__}: {exc}")
                return
            if response.status_code >= 500:
                server_errors += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:
                failures.append(f"{operation.label} -> {response.status_code}: "
                                f"{_summary(exc)}")
            if 400 <= response.status_code < 500:
                after = _fingerprint()
                changed = {k for k in before.keys() | after.keys()
                           if before.get(k) != after.get(k)}
                if changed:
                    half_changes.append(f"{operation.label} -> {response.status_code}: "
                                        f"{sorted(changed)}")

        return run

    for operation in operations:
        check(operation)()
    record("schemathesis", routes_probed=len(operations), examples_tried=tried,
           server_errors=server_errors)
    assert len(operations) >= 100
    assert tried >= len(operations) * EXAMPLES // 2
    assert not failures, "\n\n".join(failures[:15])
    assert not half_changes, "\n".join(half_changes[:30])
