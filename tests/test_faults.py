"""Faults: while the database cannot be reached, pages answer a friendly 503 and /health/
says so, and the site recovers by itself when it returns; an import interrupted midway leaves
nothing behind. (The same with a real database outage, over HTTP: test_deployment.py.)"""

import json
from pathlib import Path

import pytest
from django.apps import apps
from django.db import OperationalError, connection
from PIL import Image

from backoffice.interchange import import_lines, importing
from tests.factories import AgreementFactory, UserFactory

pytestmark = pytest.mark.django_db


def database_down(execute, sql, params, many, context):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")


@pytest.fixture
def published():
    return AgreementFactory(status="published", slug="tju-huawei-2020")


@pytest.mark.parametrize(
    "url", ["/", "/agreements/", "/agreements/tju-huawei-2020/", "/institutions/", "/labs/"]
)
def test_while_the_database_is_down_pages_answer_a_friendly_503(client, published, url):
    with connection.execute_wrapper(database_down):
        response = client.get(url)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "briefly unavailable" in page
    assert "Traceback" not in page and "OperationalError" not in page
    assert response["Content-Security-Policy"]  # still with every header


def test_while_the_database_is_down_the_api_answers_a_json_503(client, published):
    with connection.execute_wrapper(database_down):
        response = client.get("/api/agreements/")

    assert response.status_code == 503
    assert response.json() == {
        "errors": {"database": ["The registry is unavailable; try again shortly."]}
    }
    assert response["Access-Control-Allow-Origin"] == "*"  # as every answer of the API


def test_while_the_database_is_down_the_admin_answers_503_too(client):
    client.force_login(UserFactory(group="Editors"))

    with connection.execute_wrapper(database_down):
        response = client.get("/admin/agreements/agreement/")

    assert response.status_code == 503


def test_health_reports_the_database(client):
    healthy = client.get("/health/")
    with connection.execute_wrapper(database_down):
        down = client.get("/health/")

    assert (healthy.status_code, healthy.json()) == (
        200,
        {"status": "ok", "database": "ok", "cache": "ok"},
    )
    assert down.status_code == 503
    assert down.json() == {"status": "unavailable", "database": "down", "cache": "ok"}
    assert down["Cache-Control"] == "no-store"


def test_health_reports_a_cache_it_cannot_reach(client, settings):
    """Redis holds sign-ins' sessions and failure counts: without it every sign-in failed
    while /health/ said "ok", and a load balancer kept sending staff there."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "cache": "down"}


def test_health_answers_whatever_the_host_and_scheme(client, settings):
    """Asked by a container health check or load balancer, by address and over plain HTTP."""
    settings.ALLOWED_HOSTS = ["registry.example.org"]
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/health/", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/", HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_when_the_database_returns_the_site_recovers_by_itself(client, published):
    with connection.execute_wrapper(database_down):
        assert client.get("/agreements/").status_code == 503

    response = client.get("/agreements/")
    assert response.status_code == 200
    assert "tju-huawei-2020" in response.content.decode()
    assert client.get("/health/").status_code == 200


# An import interrupted midway


def row_counts():
    """Rows of every model of the registry's apps, history included."""
    return {
        model._meta.label: model._default_manager.count()
        for app in ("registry", "people", "agreements", "labs")
        for model in apps.get_app_config(app).get_models()
        if model._meta.managed  # not the search index's tables, which the database keeps
    }


def line(key, photo):
    return json.dumps(
        {
            "key": key,
            "title": f"Agreement {key}",
            "agreement_type": "cooperation agreement",
            "status": "published",
            "parties": [
                {"institution": {"name": f"University of {key}", "kind": "university"}},
                {"institution": {"name": f"Company of {key}", "kind": "company"}},
            ],
            "participants": [{"person": {"name": f"Signer of {key}"}, "role": "witness"}],
            "focus_areas": [f"Technology of {key}"],
            "photos": [{"caption": "Signing.", "image_url": photo}],
        }
    )


class Interrupted(Exception):
    """Stands for whatever stops an import: a crash, a killed worker, the database gone."""


@pytest.mark.parametrize("interruption", [Interrupted, KeyboardInterrupt])
def test_an_import_interrupted_midway_leaves_nothing_behind(
    tmp_path, settings, monkeypatch, interruption
):
    for name in ("one.png", "two.png"):
        Image.new("RGB", (40, 30), "teal").save(tmp_path / name)
    before = row_counts()
    monkeypatch.setattr(importing, "BATCH_LINES", 1)  # each line is written once read
    write, lines_written = importing.write_groups, []

    def write_then_stop_on_the_second_line(groups):
        write(groups)
        lines_written.extend(group.line.number for group in groups)
        if len(lines_written) == 2:  # everything of line 2 is written, its photo stored
            raise interruption

    monkeypatch.setattr(importing, "write_groups", write_then_stop_on_the_second_line)
    lines = [line("one", "one.png"), line("two", "two.png"), line("three", "one.png")]

    with pytest.raises(interruption):
        import_lines(lines, base_dir=tmp_path)

    assert lines_written == [1, 2]
    assert row_counts() == before
    assert [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()] == []


def test_the_same_import_uninterrupted_writes_everything(tmp_path, settings):
    """The counterpart of the test above: its lines are good, and its photos are stored."""
    Image.new("RGB", (40, 30), "teal").save(tmp_path / "one.png")

    report = import_lines([line("one", "one.png"), line("two", "one.png")], base_dir=tmp_path)

    assert report.errors == []
    assert report.counts("agreements") == {"created": 2}
    assert len(list(Path(settings.MEDIA_ROOT).rglob("*.png"))) == 4  # images and thumbnails
