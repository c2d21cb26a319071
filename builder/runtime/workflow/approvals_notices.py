"""Who hears about an approval: approvers when a step opens for them, the submitter when
the run is decided. Messages go through the notification channels (the in-app inbox by
default) in each reader's language, in the transaction of the action, so an action that
is rolled back tells nobody."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from builder.i18n import LANGUAGES, gettext, localized
from builder.runtime.documents.lookups import record_titles

if TYPE_CHECKING:
    from builder.runtime.workflow.approvals import Run


def _texts(key: str, **params: Any) -> dict[str, str]:
    return {language: gettext(key, language, **params) for language in LANGUAGES}


def _about(run: Run) -> dict[str, Any]:
    record_id = run.instance.record_id
    title = record_titles(run.store, [record_id]).get(record_id, f"#{record_id}")
    chain = run.chain.get("title")
    return {"record": title, "entity": localized(run.store.entity.get("title")),
            "chain": localized(chain) if chain else run.instance.chain_key}


def _link(run: Run) -> dict[str, Any]:
    return {"app": run.store.app_key, "entity": run.store.key,
            "record_id": run.instance.record_id}


def step_opened(run: Run, index: int, user_ids: list[int]) -> None:
    """Tell the approvers of a newly opened step that a task waits for them."""
    from builder.runtime.notify import send

    if not user_ids:
        return
    about = _about(run)
    send(run.store.tenant_id, user_ids,
         _texts("approvals.notice.task_subject", chain=about["chain"], record=about["record"]),
         _texts("approvals.notice.task_body", step=run.step_title(index), **about),
         link=_link(run))


def decided(run: Run, outcome: str) -> None:
    """Tell the submitter how their request ended (not when they withdrew it)."""
    from builder.runtime.notify import send

    submitter = run.instance.submitted_by
    if submitter is None or (run.user is not None and run.user.id == submitter):
        return
    about = _about(run)
    outcome_text = {language: gettext(f"approvals.outcome.{outcome}", language)
                    for language in LANGUAGES}
    send(run.store.tenant_id, [submitter],
         {lang: gettext("approvals.notice.decided_subject", lang, outcome=outcome_text[lang],
                        **about) for lang in LANGUAGES},
         _texts("approvals.notice.decided_body", **about), link=_link(run))
