"""A forgotten password: a staff member asks the sign-in page for a link by mail, follows it,
sets a new password and signs in with it; no one learns from the answer whether an address
has an account; the requests are limited; a site with no mail server offers none."""

import importlib.util
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client

from tests.factories import UserFactory, logged_in

pytestmark = pytest.mark.django_db

RESET = "/admin/password_reset/"
NEW_PASSWORD = "a long new passphrase 42"


def ask(client, email, **meta):
    return client.post(RESET, {"email": email}, **meta)


def link_in(message):
    return re.search(r"https?://[^/\s]+(/admin/password_reset/\S+/\S+/)", message.body)[1]


def test_the_sign_in_page_offers_a_reset_link(client):
    response = client.get("/admin/login/")

    assert f'href="{RESET}"' in response.content.decode()
    assert "Forgotten your login credentials?" in response.content.decode()


def test_a_staff_member_sets_a_new_password_by_mail_and_signs_in_with_it(client):
    user = UserFactory(group="Editors", email="wang.li@example.edu")

    response = ask(client, "Wang.Li@example.edu")

    assert response.status_code == 302
    assert response["Location"] == "/admin/password_reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["wang.li@example.edu"]
    assert message.subject == "Password reset on Partnership Registry"
    assert user.username in message.body

    # The link sends on to a page of its own, without the token in the address (Django's).
    form = client.get(link_in(message), follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done["Location"] == "/admin/password_reset/done/"

    signed_in = Client().post(
        "/admin/login/", {"username": user.username, "password": NEW_PASSWORD, "next": "/admin/"}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    # The link works once.
    assert not client.get(link_in(message), follow=True).context["validlink"]


def test_a_locked_out_staff_member_is_offered_a_reset_which_ends_the_lockout(client, settings):
    user = UserFactory(group="Editors", email="wang.li@example.edu")

    def sign_in(password):
        return Client().post(
            "/admin/login/", {"username": user.username, "password": password, "next": "/admin/"}
        )

    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in("wrong")
    refused = sign_in(NEW_PASSWORD)
    assert refused.status_code == 429
    assert f'href="{RESET}"' in refused.content.decode()

    ask(client, "wang.li@example.edu")
    form = client.get(link_in(mail.outbox[0]), follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    # From the same address, at once, rather than a quarter of an hour later.
    assert sign_in(NEW_PASSWORD).status_code == 302


def test_the_new_password_is_checked_by_the_validators(client):
    UserFactory(group="Editors", email="wang.li@example.edu")
    ask(client, "wang.li@example.edu")
    form = client.get(link_in(mail.outbox[0]), follow=True)

    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": "12345678", "new_password2": "12345678"}
    )

    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()


def test_a_reset_signs_the_user_out_everywhere_else(client):
    user = UserFactory(group="Editors", email="wang.li@example.edu")
    elsewhere = logged_in(user)
    assert elsewhere.get("/admin/").status_code == 200

    ask(client, "wang.li@example.edu")
    form = client.get(link_in(mail.outbox[0]), follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    response = elsewhere.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_link_expires_after_an_hour(client, settings, monkeypatch):
    assert settings.PASSWORD_RESET_TIMEOUT == 60 * 60
    UserFactory(group="Editors", email="wang.li@example.edu")
    ask(client, "wang.li@example.edu")
    link = link_in(mail.outbox[0])
    now = default_token_generator._now()

    monkeypatch.setattr(default_token_generator, "_now", lambda: now + timedelta(minutes=59))
    assert client.get(link, follow=True).context["validlink"]
    monkeypatch.setattr(default_token_generator, "_now", lambda: now + timedelta(minutes=61))
    assert not Client().get(link, follow=True).context["validlink"]


@pytest.mark.parametrize(
    "who",
    [
        "nobody",
        "inactive",
        "not staff",
        "no usable password",
    ],
)
def test_only_an_active_staff_member_gets_a_mail_and_the_answer_is_the_same(client, who):
    if who == "inactive":
        UserFactory(group="Editors", email="someone@example.edu", is_active=False)
    if who == "not staff":
        UserFactory(email="someone@example.edu", is_staff=False)
    if who == "no usable password":
        user = UserFactory(group="Editors", email="someone@example.edu")
        user.set_unusable_password()
        user.save()

    response = ask(client, "someone@example.edu")

    assert response.status_code == 302
    assert response["Location"] == "/admin/password_reset/sent/"
    assert mail.outbox == []


def test_requests_for_one_mail_address_are_limited(client, settings):
    settings.PASSWORD_RESET_MAIL_LIMIT = 3
    UserFactory(group="Editors", email="wang.li@example.edu")
    for number in range(3):
        assert ask(client, "wang.li@example.edu", REMOTE_ADDR=f"10.0.0.{number}").status_code == 302

    # Another spelling of the address, and another network address, are counted as the same.
    refused = ask(client, "WANG.LI@example.edu ", REMOTE_ADDR="10.0.0.9")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "Too many password reset requests" in refused.content.decode()
    assert len(mail.outbox) == 3
    # Other addresses still get theirs.
    UserFactory(group="Editors", email="zhao.min@example.edu")
    assert ask(client, "zhao.min@example.edu").status_code == 302
    assert len(mail.outbox) == 4


def test_requests_from_one_network_address_are_limited_whatever_the_mail_address(client, settings):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 5
    for number in range(5):
        assert (
            ask(client, f"guess{number}@example.edu", REMOTE_ADDR="203.0.113.7").status_code == 302
        )
    UserFactory(group="Editors", email="wang.li@example.edu")

    # Refused alike whether the address has an account or not.
    assert ask(client, "wang.li@example.edu", REMOTE_ADDR="203.0.113.7").status_code == 429
    assert ask(client, "nobody@example.edu", REMOTE_ADDR="203.0.113.7").status_code == 429
    assert mail.outbox == []
    assert ask(client, "wang.li@example.edu", REMOTE_ADDR="198.51.100.2").status_code == 302


def test_the_pages_and_the_mail_are_in_chinese(client):
    UserFactory(group="Editors", email="wang.li@example.edu")
    chinese = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}

    form = client.get(RESET, **chinese).content.decode()
    sent = client.post(RESET, {"email": "wang.li@example.edu"}, follow=True, **chinese)
    confirm = client.get(link_in(mail.outbox[0]), follow=True, **chinese).content.decode()

    assert "忘记密码？在下面输入你的电子邮箱地址" in form and "重设我的密码" in form
    assert "密码重置链接已经发送。" in sent.content.decode()
    assert "请输入两遍新密码" in confirm
    assert mail.outbox[0].subject == "重置 合作协议登记库 的密码"
    assert "请访问该页面并选择一个新密码" in mail.outbox[0].body


def test_the_sign_in_link_and_the_mail_s_reminder_are_in_chinese(client):
    UserFactory(group="Editors", email="wang.li@example.edu")
    chinese = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}

    login = client.get("/admin/login/", **chinese).content.decode()
    client.post(RESET, {"email": "wang.li@example.edu"}, **chinese)

    assert "Forgotten your login credentials?" not in login
    assert "忘记了登录信息？" in login
    assert "In case you’ve forgotten, you are:" not in mail.outbox[0].body
    assert "提醒您，您的用户名是：" in mail.outbox[0].body


def test_the_refusal_is_in_chinese(client, settings):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 1
    ask(client, "a@example.edu")

    refused = ask(client, "b@example.edu", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert refused.status_code == 429
    assert '<html lang="zh-hans">' in refused.content.decode()


@pytest.fixture
def site_without_mail(settings):
    """The site's addresses as production without EMAIL_HOST builds them."""
    settings.PASSWORD_RESET_BY_MAIL = False
    spec = importlib.util.find_spec("registry.urls")
    urls = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(urls)
    settings.ROOT_URLCONF = urls


def test_without_a_mail_server_no_reset_is_offered(client, site_without_mail):
    UserFactory(group="Editors", email="wang.li@example.edu")

    login = client.get("/admin/login/").content.decode()

    assert RESET not in login and "Forgotten your" not in login
    for address in [RESET, f"{RESET}sent/", f"{RESET}MQ/set-password/", f"{RESET}done/"]:
        assert client.get(address).status_code == 404, address
    assert ask(client, "wang.li@example.edu").status_code == 404
    assert mail.outbox == []
    # Signing in is as before.
    user = User.objects.get()
    user.set_password(NEW_PASSWORD)
    user.save()
    assert (
        client.post(
            "/admin/login/",
            {"username": user.username, "password": NEW_PASSWORD, "next": "/admin/"},
        )["Location"]
        == "/admin/"
    )
