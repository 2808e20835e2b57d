"""Dates and time zones: what "today" is, and how dates and times are shown, for a site whose
TIME_ZONE may be UTC (the default) or China's, where most of its users are."""

import datetime
import re
from contextlib import contextmanager
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from agreements.models import Agreement, StatusChange
from backoffice.interchange import import_lines
from tests.factories import SignedAgreementFactory, logged_in
from tests.test_admin import form_data
from tests.test_interchange import agreement as line
from tests.test_review import awaiting_url, change_url, move_url, status_of

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# 07:30 on 8 December in Beijing; still 7 December in UTC.
BEIJING_MORNING = datetime.datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
# 08:30 on 8 December in Beijing and 00:30 in UTC: the same day in both.
AFTER_UTC_MIDNIGHT = datetime.datetime(2026, 12, 8, 0, 30, tzinfo=UTC)
ZONES = ["UTC", "Asia/Shanghai"]


@contextmanager
def clock_at(moment):
    """Django's clock (timezone.now, which localdate, auto_now and the history read) stopped."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture(params=ZONES)
def zone(request, settings):
    settings.TIME_ZONE = request.param
    return request.param


@pytest.mark.parametrize("moment", [BEIJING_MORNING, AFTER_UTC_MIDNIGHT])
def test_an_agreement_signed_today_in_beijing_is_published_in_the_beijing_morning(
    zone, moment, publisher
):
    signed_today = SignedAgreementFactory(
        signed_on=datetime.date(2026, 12, 8), signed_on_precision="day"
    )
    this_month = SignedAgreementFactory(
        signed_on=datetime.date(2026, 12, 1), signed_on_precision="month"
    )
    with clock_at(moment):
        moved = logged_in(publisher).post(move_url(signed_today, "publish"), {"comment": ""})
        this_month.publish(by=publisher)
    assert moved.status_code == 302
    assert status_of(signed_today) == status_of(this_month) == Agreement.Status.PUBLISHED


@pytest.mark.parametrize("moment", [BEIJING_MORNING, AFTER_UTC_MIDNIGHT])
def test_an_agreement_signed_the_day_after_is_still_to_come(zone, moment, publisher):
    tomorrow = SignedAgreementFactory(
        signed_on=datetime.date(2026, 12, 9), signed_on_precision="day"
    )
    next_month = SignedAgreementFactory(
        signed_on=datetime.date(2027, 1, 1), signed_on_precision="month"
    )
    with clock_at(moment):
        for agreement in (tomorrow, next_month):
            with pytest.raises(ValidationError, match="which is to come"):
                agreement.publish(by=publisher)
    assert status_of(tomorrow) == status_of(next_month) == Agreement.Status.DRAFT


def test_a_published_agreement_is_given_todays_beijing_date_in_the_admin(zone, publisher):
    published = SignedAgreementFactory(
        status="published", signed_on=datetime.date(2026, 12, 1), signed_on_precision="day"
    )
    client = logged_in(publisher)
    data = form_data(client.get(change_url(published)))
    with clock_at(BEIJING_MORNING):
        response = client.post(change_url(published), {**data, "signed_on": "2026-12-08"})
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.signed_on == datetime.date(2026, 12, 8)


def test_a_published_line_signed_today_in_beijing_is_imported(zone):
    lines = [
        line(key="signed-today", status="published", signed_on="2026-12-08"),
        line(key="signed-tomorrow", status="published", signed_on="2026-12-09"),
    ]
    with clock_at(BEIJING_MORNING):
        today = datetime.date(2026, 12, 7 if zone == "UTC" else 8).isoformat()
        assert import_lines(lines).errors == [
            f"line 2: signed_on: 2026-12-09 is to come (today is {today}): a published "
            "agreement has been signed; import it as a draft, or correct the date"
        ]
        assert not import_lines(lines[:1]).errors
    assert Agreement.objects.get(slug="signed-today").status == Agreement.Status.PUBLISHED


# The moment above as the admin shows it in each zone.
SHOWN = {"UTC": "Dec. 7, 2026, 11:30 p.m.", "Asia/Shanghai": "Dec. 8, 2026, 7:30 a.m."}


def instants(pattern, text):
    return {datetime.datetime.fromisoformat(found) for found in re.findall(pattern, text)}


def test_times_are_shown_in_the_site_s_zone_and_given_with_their_offset(zone, publisher, client):
    agreement = SignedAgreementFactory(
        signed_on=datetime.date(2026, 12, 8), signed_on_precision="day"
    )
    agreement.submit(by=publisher)
    StatusChange.objects.update(at=BEIJING_MORNING)  # its default is read before any clock_at
    staff = logged_in(publisher)
    # "Waiting since", and the list's "state / moved by".
    assert SHOWN[zone] in staff.get(awaiting_url()).text
    listed = staff.get("/admin/agreements/agreement/").text
    assert f"in review — {publisher.username}, {SHOWN[zone]}" in listed
    with clock_at(BEIJING_MORNING):
        agreement.publish(by=publisher)
    assert SHOWN[zone] in staff.get(change_url(agreement)).text  # published at, updated at
    history = staff.get(f"/admin/agreements/agreement/{agreement.pk}/history/").text
    assert SHOWN[zone] in history
    # The feed and the sitemap's index give the instant itself, with an offset; a sitemap's
    # addresses the day, in the site's zone.
    feed = client.get(reverse("agreements:feed")).content.decode()
    assert instants(r"<(?:published|updated)>([^<]+)", feed) == {BEIJING_MORNING}
    index = client.get(reverse("sitemap")).content.decode()
    assert BEIJING_MORNING in instants(r"<lastmod>([^<]+)", index)
    sitemap = client.get("/sitemap-agreements.xml").content.decode()
    day = "2026-12-07" if zone == "UTC" else "2026-12-08"
    assert re.findall(r"<lastmod>([^<]+)", sitemap) == [day]
