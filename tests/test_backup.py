"""`make backup` and `make restore` (pg_dump and pg_restore) give back the database as it
was: every agreement as exported, every row of every table, history and accounts included."""

import io
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from agreements.models import Agreement
from backoffice.interchange import export_lines
from tests.factories import AgreementFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "agreements.jsonl"

# serialized_rollback: the restore replaces every table, the migrations' own rows included,
# which the tests after this one need back as they were.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def database_url():
    if connection.vendor != "postgresql":
        pytest.skip("make backup and make restore are for PostgreSQL (pg_dump, pg_restore)")
    missing = [
        tool for tool in ("pg_dump", "pg_restore", "vacuumdb", "make") if not shutil.which(tool)
    ]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (Debian: apt install postgresql-client)")
    db = connection.settings_dict
    credentials = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def make(target, database_url, backup):
    env = os.environ | {"DATABASE_URL": database_url}
    return subprocess.run(  # noqa: S603 - make with fixed arguments
        ["make", "--no-print-directory", target, f"BACKUP={backup}"],  # noqa: S607
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def snapshot():
    """Every agreement as exported, and the number of rows of every model."""
    counts = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.managed
    }
    return "".join(export_lines(Agreement.objects.all())), counts


def test_a_backup_restores_the_database_as_it_was(database_url, tmp_path):
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())
    AgreementFactory(slug="a-draft", title="A draft in progress")
    UserFactory(username="editor-ana", group="Editors")
    before = snapshot()
    assert before[1]["agreements.Agreement"] == 3
    assert before[1]["agreements.HistoricalAgreement"] >= 3

    make("backup", database_url, tmp_path / "registry.dump")
    # Then things go wrong: records deleted, changed and added.
    Agreement.objects.filter(slug="ecnu-huawei-2019").delete()
    Agreement.objects.filter(slug="a-draft").update(title="Overwritten")
    AgreementFactory(slug="added-after-the-backup")
    assert snapshot() != before
    connection.close()  # as the app is stopped before a restore
    make("restore", database_url, tmp_path / "registry.dump")

    assert snapshot() == before
    assert Agreement.objects.get(slug="a-draft").title == "A draft in progress"


def test_a_restored_database_has_the_statistics_its_queries_are_planned_by(database_url, tmp_path):
    """pg_restore loads rows but no planner statistics, and on a database of thousands of
    agreements a page then took minutes (the API's list of people: 58 s for 20,000 people,
    a 500 at gunicorn's 30 s) until autovacuum, if it is on, analysed the tables."""
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())
    make("backup", database_url, tmp_path / "registry.dump")
    connection.close()
    make("restore", database_url, tmp_path / "registry.dump")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema() "
            "AND tablename IN ('agreements_agreement', 'agreements_participation', "
            "'people_person')"
        )
        analysed = {row[0] for row in cursor.fetchall()}
    assert analysed == {"agreements_agreement", "agreements_participation", "people_person"}


def test_backup_refuses_a_database_that_is_not_postgresql(tmp_path):
    env = os.environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = subprocess.run(  # noqa: S603 - make with fixed arguments
        ["make", "--no-print-directory", "backup", f"BACKUP={tmp_path / 'x.dump'}"],  # noqa: S607
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "make backup needs DATABASE_URL=postgres://" in result.stdout
