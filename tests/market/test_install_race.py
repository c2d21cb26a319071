"""Two installs of one package at once: the database lets exactly one of them through."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from builder.designer.models import App
from builder.errors import AppError
from builder.extensions import db
from builder.market import catalog, installer
from builder.market.models import MarketInstall
from builder.platform.models import Tenant, User
from builder.runtime.jobs import run_in_app


def test_concurrent_installs_leave_one_install(app, market, tenant, admin):
    tenant_id, admin_id = tenant.id, admin.id
    db.session.commit()  # and hold no transaction (SQLite's writer lock) while they run
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def install() -> None:
        package = catalog.get_package("sales_kit")
        barrier.wait(30)
        try:
            target = db.session.get(Tenant, tenant_id)
            user = db.session.get(User, admin_id)
            report = installer.install(target, package, user)
            db.session.commit()
            outcomes.append(report.action)
        except (AppError, sa.exc.IntegrityError) as error:
            db.session.rollback()
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=run_in_app, args=(app, install)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # SQLite serializes writers: the second sees the first's install; PostgreSQL lets both
    # start and the unique keys stop the second
    assert sorted(outcomes) in (["install", "none"], ["Conflict", "install"],
                                ["IntegrityError", "install"]), outcomes
    db.session.expire_all()
    assert db.session.query(MarketInstall).filter_by(tenant_id=tenant_id).count() == 1
    assert db.session.query(App).filter_by(tenant_id=tenant_id).count() == 1
