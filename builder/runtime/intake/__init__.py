"""Intake: records that arrive from outside, without a login.

- ``forms``: public forms (``public_forms`` in the definition), e.g. the website lead form;
- ``hooks``: inbound webhooks (``inbound_webhooks``), e.g. telephony transcripts,
  official-account messages, POS receipts;
- ``endpoints``: their per-tenant secret tokens, rotatable by an admin;
- ``ratelimit``: counters in the database, shared by every web node.

Both create records through ``RecordService``: the same validation, audit and events as
any other write.
"""
