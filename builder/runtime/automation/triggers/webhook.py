"""The inbound webhook trigger: ``POST /api/automations/hooks/<token>`` runs the automation
with the request's JSON as ``$payload`` (see ``builder.runtime.automation.hooks``)."""

from __future__ import annotations

from builder.runtime.automation.triggers.base import Trigger, trigger_registry


@trigger_registry.register
class Webhook(Trigger):
    """``{"type": "webhook", "record": <JsonLogic>}``: ``record`` (optional) computes, from
    ``$payload``, the id of the record to act on; without it the run has no record."""

    type = "webhook"
