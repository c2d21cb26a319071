"""Jobs run in the background: through RQ with REDIS_URL, in-process without."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from builder.extensions import db
from builder.platform import service
from builder.platform.models import Tenant
from builder.runtime import jobs


def create_tenant_job(slug: str, *, name: str) -> None:
    """A job with a visible effect: it needs an app context and commits its own session."""
    service.create_tenant(slug, name)
    db.session.commit()


def tenant_slugs() -> list[str]:
    db.session.commit()
    return list(db.session.scalars(sa.select(Tenant.slug).order_by(Tenant.slug)))


def test_enqueued_job_runs(app, run_jobs):
    job_id = jobs.enqueue(create_tenant_job, "jobbed", name="Jobbed")
    assert job_id
    run_jobs()
    assert tenant_slugs() == ["jobbed"]


def test_job_waits_for_the_transaction_and_is_dropped_on_rollback(app, run_jobs):
    db.session.execute(sa.select(1))  # now inside a transaction
    jobs.enqueue(create_tenant_job, "undone", name="x")
    db.session.rollback()
    run_jobs()
    assert tenant_slugs() == []

    db.session.execute(sa.select(1))
    jobs.enqueue(create_tenant_job, "kept", name="x")
    assert db.session.scalars(sa.select(Tenant.slug)).all() == []  # not sent yet
    db.session.commit()  # sent now
    run_jobs()
    assert tenant_slugs() == ["kept"]


def test_in_process_thread_pool_runs_jobs(app):
    if jobs.get_jobs(app).uses_redis:
        pytest.skip("REDIS_URL is set: jobs go through RQ")
    app.config["JOBS_SYNC"] = False
    jobs.enqueue(create_tenant_job, "threaded", name="x")
    jobs.get_jobs(app).wait()
    assert tenant_slugs() == ["threaded"]


def test_a_released_savepoint_does_not_send_the_job_early(app, run_jobs):
    db.session.execute(sa.select(1))
    with db.session.begin_nested():
        jobs.enqueue(create_tenant_job, "nested", name="x")
    with db.session.begin_nested():  # another savepoint released: still not sent
        pass
    transport = jobs.get_jobs(app)
    if transport.uses_redis:
        assert transport.queue().count == 0
    assert db.session.scalars(sa.select(Tenant.slug)).all() == []
    db.session.rollback()
    run_jobs()
    assert tenant_slugs() == []
