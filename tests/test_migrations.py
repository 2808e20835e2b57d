"""The migrations an upgrade applies reverse and apply again on a populated database, as an
operator going back would run them (README, "Upgrade")."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.exceptions import IrreversibleError
from django.db.migrations.executor import MigrationExecutor

from agreements.models import Agreement
from backoffice.interchange import export_lines
from tests.factories import AgreementFactory

# Each app's last migration on 2026-12-04 (b6b6b83), the oldest installation upgraded in the
# audit of 2026-12-07: every migration since is reversed.
BEFORE = [
    ("agreements", "0010_search_document_inline"),
    ("registry", "0002_constraint_messages"),
    ("people", "0002_person_name_index"),
    ("labs", "0001_initial"),
    ("backoffice", "0003_merges"),
]

# serialized_rollback: the tests after this need the migrations' rows (groups, permissions)
# back as they were; transaction: SQLite changes its schema only outside a transaction.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def test_going_back_past_0013_names_the_terms_it_would_refuse_and_forward_again_loses_nothing(
    client,
):
    """Reversing renders every migration's state, some 10 s a pass: one test, one pass each
    way. (Every migration since BEFORE reversed on 3,000 agreements, on both databases, in the
    audit of 2026-12-07: README, "Upgrade".)"""
    call_command("import_agreements", "demo/agreements.jsonl", stdout=io.StringIO())
    # A term only 0013's rule allows: from May 2020 to some time in 2020.
    AgreementFactory(
        slug="from-may-to-some-time-in-2020",
        starts_on=date(2020, 5, 1),
        starts_on_precision="month",
        ends_on=date(2020, 1, 1),
        ends_on_precision="year",
    )
    before = "".join(export_lines(Agreement.objects.all()))
    try:
        # The migrations after 0013 reverse; 0013 refuses, by name, before it undoes anything.
        with pytest.raises(IrreversibleError, match="from-may-to-some-time-in-2020"):
            migrate(BEFORE)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert "".join(export_lines(Agreement.objects.all())) == before
    # The search's documents are made again, with 0018's names of the institutions people
    # acted for: the municipal government that witnessed one agreement is found.
    found = client.get("/api/agreements/", {"q": '"Tianjin Municipal Government"'}).json()
    assert [result["key"] for result in found["results"]] == ["tju-china-telecom-huawei-2020"]
