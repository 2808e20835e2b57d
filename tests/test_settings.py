"""Production settings come from the environment alone: a site served under a public name
refuses to start when something it needs is missing or unsafe, and passes Django's deployment
checks when all is set; on this machine alone, no setting is needed."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = [
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "DEBUG",
    "SECRET_KEY",
    "HSTS_SECONDS",
    "MEDIA_URL",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "REDIS_URL",
    "LOG_LEVEL",
    "TRUSTED_PROXY_COUNT",
    "LOGIN_FAILURE_LIMIT",
    "LOGIN_LOCKOUT_MINUTES",
    "IMAGE_MAX_SIDE",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "DEFAULT_FROM_EMAIL",
    "PASSWORD_RESET_MAIL_LIMIT",
    "REVIEW_MAIL",
]


def this_environment():
    """This process's environment less the settings, and less what the test run itself sets
    (DJANGO_ALLOW_ASYNC_UNSAFE for the browser tests, which check --deploy rightly refuses)."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in SETTINGS and not name.startswith("DJANGO_")
    }


def production(**changes):
    """A complete production environment, with `changes` (None removes a variable)."""
    env = this_environment()
    env |= {
        "ALLOWED_HOSTS": "registry.example.org",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": "postgres://registry:secret@db.internal:5432/registry",
    }
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(env, *args):
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_deployment_checks_pass_with_production_settings():
    result = manage(production(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_settings_turn_on_https_and_secure_cookies():
    code = (
        "from django.conf import settings as s; "
        "print(s.PRODUCTION, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_PROXY_SSL_HEADER, s.CACHES['default']['BACKEND'])"
    )
    result = manage(production(), "shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "31536000",
        "True",
        "True",
        "True",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "django.core.cache.backends.db.DatabaseCache",
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short-and-guessable"}, "SECRET_KEY must be at least 50"),
        ({"SECRET_KEY": "ab" * 30}, "SECRET_KEY must be at least 50"),
        ({"DEBUG": "1"}, "DEBUG shows tracebacks"),
        ({"ALLOWED_HOSTS": "*"}, "not '*'"),
        ({"DATABASE_URL": None}, "DATABASE_URL must be set"),
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
        ({"HSTS_SECONDS": "a year"}, "HSTS_SECONDS must be a whole number"),
        ({"MEDIA_URL": "https://cdn.example.org/media/"}, "MEDIA_URL must be a path"),
        # whitenoise serves every file under STATIC_ROOT: an empty value (the current folder,
        # the code's) would publish .env and .git, a folder around MEDIA_ROOT drafts' photos
        ({"STATIC_ROOT": ""}, "STATIC_ROOT must name a folder"),
        ({"MEDIA_ROOT": ""}, "MEDIA_ROOT must name a folder"),
        ({"STATIC_ROOT": "."}, "must not hold the code's folder"),
        ({"STATIC_ROOT": str(ROOT.parent)}, "must not hold the code's folder"),
        ({"STATIC_ROOT": "/srv/site", "MEDIA_ROOT": "/srv/site/media"}, "must not hold MEDIA_ROOT"),
        # Django's Redis cache reads it at the first use: the first sign-in, a 500
        ({"REDIS_URL": "127.0.0.1:6379"}, "REDIS_URL must be an address such as redis://"),
        # -1 read X-Forwarded-For's second address, which the client writes; 0 failures
        # allowed refused every sign-in
        ({"TRUSTED_PROXY_COUNT": "-1"}, "TRUSTED_PROXY_COUNT must be a whole number of at least 0"),
        ({"LOGIN_FAILURE_LIMIT": "0"}, "LOGIN_FAILURE_LIMIT must be a whole number of at least 1"),
        (
            {"LOGIN_LOCKOUT_MINUTES": "0"},
            "LOGIN_LOCKOUT_MINUTES must be a whole number of at least 1",
        ),
        ({"HSTS_SECONDS": "-5"}, "HSTS_SECONDS must be a whole number of at least 0"),
        ({"IMAGE_MAX_SIDE": "0"}, "IMAGE_MAX_SIDE must be a whole number of at least 1"),
        # Django's webmaster@localhost, refused by most mail servers: every reset mail lost
        ({"EMAIL_HOST": "smtp.example.org"}, "DEFAULT_FROM_EMAIL must be set when EMAIL_HOST is"),
        (
            {"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"},
            "EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on",
        ),
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT must be a whole number"),
        # Every move would try a mail server on the machine, and log its failure
        ({"REVIEW_MAIL": "1"}, "REVIEW_MAIL needs EMAIL_HOST"),
        ({"REVIEW_MAIL": "maybe"}, "REVIEW_MAIL must be true or false"),
        (
            {"PASSWORD_RESET_MAIL_LIMIT": "0"},
            "PASSWORD_RESET_MAIL_LIMIT must be a whole number of at least 1",
        ),
    ],
)
def test_production_refuses_to_start_when_a_setting_is_missing_or_unsafe(changes, message):
    result = manage(production(**changes), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_on_this_machine_no_setting_is_needed():
    env = this_environment()
    code = "from django.conf import settings; print(settings.PRODUCTION)"
    result = manage(env, "shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_planner_settings_given_in_the_database_address_win():
    code = "from django.conf import settings as s; print(s.DATABASES['default']['OPTIONS'])"
    plain = manage(production(), "shell", "--no-imports", "-c", code)
    assert "-c random_page_cost=1.1" in plain.stdout, plain.stderr
    address = "postgres://registry:secret@db.internal:5432/registry?options=-c+random_page_cost%3D4"
    given = manage(production(DATABASE_URL=address), "shell", "--no-imports", "-c", code)
    options = given.stdout
    assert options.index("random_page_cost=1.1") < options.index("random_page_cost=4"), options


def test_a_logged_error_says_when_how_bad_and_where_from():
    """gunicorn's own lines and its access log are dated; the app's share the same stream."""
    code = "import logging; logging.getLogger('django.request').error('Internal Server Error: /x/')"
    result = manage(production(), "shell", "--no-imports", "-c", code)

    line = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[ERROR\] django\.request: "
        r"Internal Server Error: /x/",
        line,
    ), line


def test_an_unknown_log_level_stops_start_up_with_a_message():
    result = manage(production(LOG_LEVEL="LOUD"), "check")
    assert "ImproperlyConfigured" in result.stderr
    assert (
        "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'"
        in result.stderr
    )


MAIL_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.EMAIL_BACKEND, s.PASSWORD_RESET_BY_MAIL, s.DEFAULT_FROM_EMAIL)"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # make run: the mail is printed in its terminal.
        (this_environment(), "django.core.mail.backends.console.EmailBackend True"),
        # Production without a mail server offers no reset (tests/test_password_reset.py).
        (production(), "django.core.mail.backends.smtp.EmailBackend False"),
        (
            production(EMAIL_HOST="smtp.example.org", DEFAULT_FROM_EMAIL="registry@example.org"),
            "django.core.mail.backends.smtp.EmailBackend True registry@example.org",
        ),
    ],
    ids=["this machine", "production without mail", "production with mail"],
)
def test_password_reset_mail_is_sent_where_a_mail_server_is_set_or_printed_here(env, expected):
    result = manage(env, "shell", "--no-imports", "-c", MAIL_SETTINGS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(expected)


WITH_MAIL = {"EMAIL_HOST": "smtp.example.org", "DEFAULT_FROM_EMAIL": "registry@example.org"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (this_environment(), "True"),  # printed in the terminal of `make run`
        (production(), "False"),
        (production(**WITH_MAIL), "True"),
        (production(**WITH_MAIL, REVIEW_MAIL="0"), "False"),
    ],
    ids=["this machine", "production without mail", "production with mail", "turned off"],
)
def test_review_mail_is_on_wherever_mail_can_be_sent_unless_turned_off(env, expected):
    code = "from django.conf import settings as s; print(s.REVIEW_MAIL)"
    result = manage(env, "shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
