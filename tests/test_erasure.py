"""Erasing a person on request (privacy): backoffice/erasure.py and `manage.py erase_person`.
A delete in the admin removes them from every public page and search, but leaves their names
in the history, the admin's log and the record of merges; erasure takes those too."""

import io
import json

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command

from agreements.models import Agreement, Participation
from backoffice.merging import merge_people
from backoffice.models import Merge, NotDuplicate
from people.models import Person, PersonAlias
from tests.factories import (
    AgreementFactory,
    ParticipationFactory,
    PartyFactory,
    PersonAliasFactory,
    PersonFactory,
    UserFactory,
    logged_in,
)
from tests.test_history import history_url

pytestmark = pytest.mark.django_db


def person_who_took_part(editor):
    """Zhang Yong, once also entered as Daniel Zhang (merged), a witness of an agreement from
    which an editor then removed him, as the admin logs it."""
    agreement = AgreementFactory(status="published", title="Grand pact")
    PartyFactory(agreement=agreement)
    zhang = PersonFactory(name="Zhang Yong", native_name="张勇", slug="zhang-yong")
    PersonAliasFactory(person=zhang, name="Z. Yong")
    daniel = PersonFactory(name="Daniel Zhang", slug="daniel-zhang")
    ParticipationFactory(agreement=agreement, person=daniel, role="witness", title="Chairman")
    merge_people(survivor=zhang, duplicate=daniel, by=editor)
    participation = Participation.objects.get(person=zhang)
    LogEntry.objects.create(
        user=editor,
        content_type=ContentType.objects.get_for_model(Agreement),
        object_id=str(agreement.pk),
        object_repr=agreement.title,
        action_flag=CHANGE,
        change_message=json.dumps(
            [{"deleted": {"name": "participation", "object": str(participation)}}]
        ),
    )
    participation.delete()
    return agreement, zhang


NAMES = ["Zhang Yong", "张勇", "Z. Yong", "Daniel Zhang"]


def named_anywhere(*texts):
    return [name for name in NAMES for text in texts if name in text]


def test_erasing_a_person_purges_their_names_from_history_log_and_merges(client):
    editor = UserFactory(group="Publishers")
    agreement, zhang = person_who_took_part(editor)
    LogEntry.objects.create(
        user=editor,
        content_type=ContentType.objects.get_for_model(Person),
        object_id=str(zhang.pk),
        object_repr=str(zhang),
        action_flag=CHANGE,
        change_message="[]",
    )
    staff = logged_in(editor)
    assert named_anywhere(staff.get(history_url(agreement)).content.decode())

    call_command("erase_person", "zhang-yong", "--yes", stdout=io.StringIO())

    assert not Person.objects.exists() and not PersonAlias.objects.exists()
    assert not Person.history.exists() and not PersonAlias.history.exists()
    assert not Merge.objects.exists() and not NotDuplicate.objects.exists()
    kept = Participation.history.all()
    assert kept.count() >= 2  # added and removed: the agreement's history still says so
    assert named_anywhere(*[f"{v.title} {v.history_change_reason}" for v in kept]) == []
    logged = [f"{e.object_repr} {e.change_message}" for e in LogEntry.objects.all()]
    assert logged and named_anywhere(*logged) == []
    assert "a removed person (witness)" in LogEntry.objects.get().get_change_message()
    page = staff.get(history_url(agreement))
    assert page.status_code == 200 and named_anywhere(page.content.decode()) == []
    assert client.get("/people/daniel-zhang/").status_code == 404
    assert client.get("/people/zhang-yong/").status_code == 404
    # Nor does the public search find or suggest them (on PostgreSQL, by its triggers).
    search = client.get("/agreements/?q=Zhang Yng")
    assert list(search.context["page"]) == [] and search.context["suggestion"] is None


def test_a_person_who_still_takes_part_is_not_erased():
    zhang = PersonFactory(name="Zhang Yong", slug="zhang-yong")
    ParticipationFactory(agreement=AgreementFactory(title="Grand pact"), person=zhang)

    with pytest.raises(CommandError, match="Zhang Yong still takes part in: Grand pact"):
        call_command("erase_person", "zhang-yong", "--yes")

    assert Person.objects.filter(pk=zhang.pk).exists()
    assert Person.history.filter(id=zhang.pk).exists()


def test_without_yes_a_person_who_still_takes_part_is_said_to_be_refused(capsys):
    zhang = PersonFactory(name="Zhang Yong", slug="zhang-yong")
    ParticipationFactory(agreement=AgreementFactory(title="Grand pact"), person=zhang)

    with pytest.raises(CommandError, match="Zhang Yong still takes part in: Grand pact"):
        call_command("erase_person", "zhang-yong")

    assert "Would erase" not in capsys.readouterr().out


def test_without_yes_nothing_is_erased(capsys):
    PersonFactory(name="Zhang Yong", slug="zhang-yong")

    call_command("erase_person", "zhang-yong")

    assert "Would erase Zhang Yong" in capsys.readouterr().out
    assert Person.objects.exists() and Person.history.exists()


def test_an_unknown_slug_is_an_error():
    with pytest.raises(CommandError, match="No person has or had the slug 'nobody'"):
        call_command("erase_person", "nobody", "--yes")


def test_a_person_deleted_in_the_admin_before_the_request_is_erased_by_their_slug():
    editor = UserFactory(group="Publishers")
    _agreement, zhang = person_who_took_part(editor)
    zhang.delete()  # the merge of Daniel Zhang into him loses its survivor (SET_NULL)
    assert Merge.objects.get().survivor_person is None
    assert Person.history.filter(name="Zhang Yong").exists()

    call_command("erase_person", "zhang-yong", "--yes", stdout=io.StringIO())

    assert not Person.history.exists() and not PersonAlias.history.exists()
    assert not Merge.objects.exists()
    assert named_anywhere(*[v.title for v in Participation.history.all()]) == []


def test_a_merge_of_someone_else_into_a_deleted_namesake_is_kept():
    editor = UserFactory(group="Publishers")
    person_who_took_part(editor)
    other = PersonFactory(name="Zhang Yong", slug="zhang-yong-2")
    merge_people(survivor=other, duplicate=PersonFactory(name="Y. Zhang"), by=editor)
    other.delete()

    call_command("erase_person", "zhang-yong", "--yes", stdout=io.StringIO())

    assert list(Merge.objects.values_list("duplicate_name", flat=True)) == ["Y. Zhang"]
    assert Person.history.filter(slug="zhang-yong-2").exists()
