"""docker-compose.yml and the Dockerfile run what CI runs: the same start-up script that
`make serve` runs (and test_deployment.py starts), with settings that .env.example lists. No
Docker engine is needed to check that, and none is here."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()
START = (ROOT / "bin" / "start").read_text()
NGINX = (ROOT / "deploy" / "nginx.conf").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
# Read by gunicorn itself, not by our code.
GUNICORN_SETTINGS = {"FORWARDED_ALLOW_IPS"}
# Set by bin/start itself, whatever the environment says.
START_SETTINGS = {"SERVED_BY_WORKERS"}


def recipe(target):
    """The command lines of a Makefile target."""
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", MAKEFILE, re.MULTILINE)
    return match[1]


def settings_read_by(text):
    return set(re.findall(r'(?:environ\.get|env_\w+)\(\s*"([A-Z_]+)"', text)) | set(
        re.findall(r"\$\{([A-Z_]+)", text)
    )


def env_example_names():
    return set(re.findall(r"^#? ?([A-Z][A-Z_]+)=", ENV_EXAMPLE, re.MULTILINE))


def test_the_image_and_the_app_service_run_the_start_up_script():
    assert re.search(r'^CMD \["bin/start"\]$', DOCKERFILE, re.MULTILINE)
    assert COMPOSE["services"]["app"]["command"] == ["bin/start"]


def test_make_serve_runs_the_same_script():
    assert "bin/start" in recipe("serve")


def test_the_script_waits_for_the_database_migrates_collects_and_serves_with_gunicorn():
    steps = re.findall(r"^(?:exec )?(python manage.py \w+|gunicorn)", START, re.MULTILINE)
    assert steps == [
        "python manage.py wait_for_database",
        "python manage.py migrate",
        "python manage.py createcachetable",
        "python manage.py new_cache_generation",
        "python manage.py collectstatic",
        "gunicorn",
    ]
    assert "registry.wsgi" in START


def test_the_script_has_its_workers_share_one_cache_whatever_the_host():
    """On a loopback address too: else each worker keeps its own sign-in failures and search
    cache (test_scale.py serves two app servers so)."""
    assert re.search(r"^export SERVED_BY_WORKERS=1$", START, re.MULTILINE)
    assert START.index("SERVED_BY_WORKERS") < START.index("createcachetable")


def test_the_image_runs_as_a_user_of_its_own():
    assert re.search(r"^USER registry$", DOCKERFILE, re.MULTILINE)


def test_the_database_is_healthy_before_the_app_starts_and_the_app_before_the_web_server():
    services = COMPOSE["services"]
    assert "pg_isready" in services["db"]["healthcheck"]["test"]
    assert services["app"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "/health/" in " ".join(services["app"]["healthcheck"]["test"])
    assert services["web"]["depends_on"] == {"app": {"condition": "service_healthy"}}


def test_data_and_uploads_live_in_named_volumes():
    services, volumes = COMPOSE["services"], set(COMPOSE["volumes"])
    assert volumes == {"db-data", "media"}
    assert "db-data:/var/lib/postgresql/data" in services["db"]["volumes"]
    assert "media:/app/media" in services["app"]["volumes"]
    assert "media:/srv/media:ro" in services["web"]["volumes"]


def test_only_the_web_server_is_published_and_only_on_the_host_loopback_by_default():
    services = COMPOSE["services"]
    assert "ports" not in services["db"] and "ports" not in services["app"]
    assert services["web"]["ports"] == ["${WEB_BIND:-127.0.0.1:8080}:8080"]


def test_nginx_sends_uploads_only_where_the_app_redirects_it():
    app = COMPOSE["services"]["app"]["environment"]
    location = app["MEDIA_ACCEL_REDIRECT"]
    assert app["MEDIA_ROOT"] == "/app/media"
    block = re.search(rf"location {location} \{{(.*?)\}}", NGINX, re.DOTALL)[1]
    assert "internal;" in block
    assert "alias /srv/media/;" in block
    assert "proxy_pass http://app:8000;" in NGINX


def test_the_app_is_configured_from_the_environment_file_with_production_settings():
    app = COMPOSE["services"]["app"]
    assert app["env_file"] == ".env"
    assert "DEBUG" not in app["environment"]
    assert app["environment"]["DATABASE_URL"].startswith("postgres://")
    assert re.search(r"^ALLOWED_HOSTS=\S*\.\S+$", ENV_EXAMPLE, re.MULTILINE)  # a public name


def test_every_setting_is_listed_in_the_example_environment_file():
    read = settings_read_by((ROOT / "registry" / "settings.py").read_text())
    read |= settings_read_by(START) | settings_read_by((ROOT / "docker-compose.yml").read_text())
    read |= set(COMPOSE["services"]["app"]["environment"]) - GUNICORN_SETTINGS

    assert sorted(read - env_example_names() - START_SETTINGS) == []


def test_the_example_environment_file_lists_no_unknown_setting():
    known = settings_read_by((ROOT / "registry" / "settings.py").read_text())
    known |= settings_read_by(START) | settings_read_by((ROOT / "docker-compose.yml").read_text())
    known |= set(COMPOSE["services"]["app"]["environment"])

    assert sorted(env_example_names() - known) == []


def test_the_proxies_trusted_are_compose_s_two_unless_told_and_none_for_make_serve():
    """A count too high lets a client write its own address and escape the sign-in limit:
    `make serve` with the example file as it is trusts no X-Forwarded-For."""
    app = COMPOSE["services"]["app"]["environment"]
    assert app["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-2}"
    assert not re.search(r"^TRUSTED_PROXY_COUNT=", ENV_EXAMPLE, re.MULTILINE)


def test_every_app_of_the_project_is_in_the_package():
    """pyproject.toml's list of packages names every app: the API was left out, so anything
    built from that list (a wheel, an install that is not editable) would have missed it."""
    from django.conf import settings

    found = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = {name.removesuffix("*") for name in found["packages"]["find"]["include"]}
    ours = {app for app in settings.INSTALLED_APPS if (ROOT / app).is_dir()}
    assert ours - listed == set()
