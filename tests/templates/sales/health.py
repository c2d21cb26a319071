"""The ten figures of the sales health self-check, computed here from the rows of the
package's tables (its raw fields, not the formulas and rollups the dashboard reads), as the
seed documents define them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

from builder import clock
from tests.templates.tables import Tables

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def response_2h_rate(tables: Tables) -> float | None:
    """Leads first touched (the earliest follow-up logged on them) within two hours."""
    first: dict[int, datetime] = {}
    for touch in tables.rows("follow_up", "lead", "touched_at"):
        moment = _aware(touch["touched_at"])
        if touch["lead"] and moment:
            first[touch["lead"]] = min(first.get(touch["lead"], moment), moment)
    leads = tables.rows("lead", "received_at")
    quick = 0
    for lead in leads:
        touched, received = first.get(lead["id"]), _aware(lead["received_at"])
        if touched and received and (touched - received).total_seconds() // 60 <= 120:
            quick += 1
    return _ratio(quick, len(leads))


def customer_completeness(tables: Tables) -> float | None:
    """Customers with a budget, a purchase timeline and someone in their decision chain."""
    chains = Counter(m["parent_id"] for m in tables.rows("decision_member"))
    customers = tables.rows("customer", "budget", "purchase_timeline")
    complete = sum(1 for c in customers if (c["budget"] or 0) > 0 and c["purchase_timeline"]
                   and chains[c["id"]] >= 1)
    return _ratio(complete, len(customers))


def quote_consistency(tables: Tables, now: datetime) -> float | None:
    """Of the customers quoted in 30 days, those with at most two quote versions."""
    since = now - timedelta(days=30)
    versions = Counter(q["customer"] for q in tables.rows("quote", "customer", "created_at")
                       if q["customer"] and _aware(q["created_at"]) >= since)  # type: ignore[operator]
    return _ratio(sum(1 for n in versions.values() if n <= 2), len(versions))


def first_pass_rate(tables: Tables) -> float | None:
    """Approved contracts that were never sent back."""
    approved = [c for c in tables.rows("contract", "review_passed", "review_rejections")
                if c["review_passed"]]
    return _ratio(sum(1 for c in approved if not c["review_rejections"]), len(approved))


def first_deal_cycle(tables: Tables, today: date) -> float | None:
    """Days from hiring to the first signed contract of the reps hired in the last year."""
    first: dict[int, date] = {}
    for contract in tables.rows("contract", "owner", "status", "signed_date"):
        if contract["status"] == "signed" and contract["signed_date"] and contract["owner"]:
            owner = contract["owner"]
            first[owner] = min(first.get(owner, contract["signed_date"]),
                               contract["signed_date"])
    days = [(first[p["user"]] - p["hire_date"]).days
            for p in tables.rows("rep_profile", "user", "hire_date")
            if p["hire_date"] >= today - timedelta(days=365) and p["user"] in first]
    return mean(days) if days else None


def _done_follow_ups(tables: Tables) -> list[dict[str, Any]]:
    return [f for f in tables.rows("follow_up", "status", "proof", "contact_date", "touched_at")
            if f["status"] == "done"]


def trace_rate(tables: Tables) -> float | None:
    """Done follow-ups with a recording, screenshot or email attached."""
    done = _done_follow_ups(tables)
    return _ratio(sum(1 for f in done if f["proof"]), len(done))


def same_day_rate(tables: Tables, now: datetime) -> float | None:
    """Done follow-ups logged on the day the customer was contacted."""
    done = _done_follow_ups(tables)
    same = sum(1 for f in done
               if f["contact_date"] == (_aware(f["touched_at"]) or now).astimezone(SHANGHAI).date())
    return _ratio(same, len(done))


def daily_reports_recent(tables: Tables, today: date) -> int:
    return sum(1 for r in tables.rows("daily_report", "report_date")
               if r["report_date"] >= today - timedelta(days=1))


def classification_error_rate(tables: Tables) -> float | None:
    """Done audit reviews that found the customer's tier wrong."""
    done = [a for a in tables.rows("audit_review", "status", "tier_correct")
            if a["status"] == "done"]
    return _ratio(sum(1 for a in done if a["tier_correct"] is False), len(done))


def talk_track_uses_per_rep(tables: Tables) -> float | None:
    return _ratio(len(tables.rows("kb_usage")), len(tables.rows("rep_profile")))


def health_figures(tables: Tables) -> dict[str, float | None]:
    """The ten figures by the keys of the dashboard's metrics."""
    now = clock.now()
    today = now.astimezone(SHANGHAI).date()
    return {
        "response_2h_rate": response_2h_rate(tables),
        "customer_completeness": customer_completeness(tables),
        "quote_consistency": quote_consistency(tables, now),
        "first_pass_rate": first_pass_rate(tables),
        "first_deal_cycle": first_deal_cycle(tables, today),
        "trace_rate": trace_rate(tables),
        "daily_reports_recent": daily_reports_recent(tables, today),
        "classification_error_rate": classification_error_rate(tables),
        "talk_track_uses_per_rep": talk_track_uses_per_rep(tables),
        "same_day_rate": same_day_rate(tables, now),
    }
