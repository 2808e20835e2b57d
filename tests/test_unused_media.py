"""Uploaded files no row names any more (a photo deleted, a logo replaced): `manage.py
unused_media` lists them and, asked to, removes them; never a file a row still names."""

import io
import os
import time

import pytest
from django.core.management import CommandError, call_command

from agreements.models import Photo
from registry.images import process_image
from tests.factories import AgreementFactory, InstitutionFactory, PhotoFactory
from tests.test_uploads import image_bytes, upload

pytestmark = pytest.mark.django_db


def processed():
    return process_image(upload("ceremony.png", image_bytes()))


def aged(*files):
    """As if uploaded two days ago, past the day the command leaves young files alone."""
    then = time.time() - 2 * 86400
    for file in files:
        os.utime(file.path, (then, then))


def run(*options):
    out = io.StringIO()
    call_command("unused_media", *options, stdout=out)
    return out.getvalue()


def test_a_deleted_photos_files_are_listed_and_removed_with_delete():
    first = processed()
    photo = PhotoFactory(agreement=AgreementFactory(), image=first.image, thumbnail=first.thumbnail)
    image, thumbnail = photo.image, photo.thumbnail
    aged(image, thumbnail)
    assert run() == ""
    photo.delete()
    assert image.storage.exists(image.name)  # Django leaves the files

    # Its last version names them, and simple_history can restore it.
    listed = f"unused {image.name} (in the history)\nunused {thumbnail.name} (in the history)\n"
    assert run() == listed
    assert run("--delete") == listed + "0 files removed.\n"
    assert image.storage.exists(image.name)

    assert run("--delete", "--with-history").splitlines()[-1] == "2 files removed."
    assert not image.storage.exists(image.name) and not image.storage.exists(thumbnail.name)


def test_with_history_alone_is_refused_for_it_deletes_nothing():
    with pytest.raises(CommandError, match="--with-history goes with --delete"):
        run("--with-history")


def test_a_file_no_row_nor_version_names_is_removed_with_delete():
    stray = processed()
    photo = PhotoFactory(agreement=AgreementFactory(), image=stray.image, thumbnail=stray.thumbnail)
    image = photo.image
    aged(image, photo.thumbnail)
    Photo.objects.all().delete()
    Photo.history.all().delete()  # as a photo written and deleted in bulk

    assert run("--delete").splitlines()[-1] == "2 files removed."
    assert not image.storage.exists(image.name)


def test_a_file_only_the_history_names_is_removed_only_with_history():
    old = processed()
    company = InstitutionFactory(logo=old.image, logo_thumbnail=old.thumbnail)
    logo = company.logo
    aged(logo, company.logo_thumbnail)
    new = processed()
    company.logo, company.logo_thumbnail = new.image, new.thumbnail
    company.save()  # replaced: the old version keeps the old names

    assert f"unused {logo.name} (in the history)" in run("--delete")
    assert logo.storage.exists(logo.name)

    run("--delete", "--with-history")

    assert not logo.storage.exists(logo.name)
    assert company.logo.storage.exists(company.logo.name)


def test_a_file_another_row_names_is_kept():
    shared = processed()
    kept = InstitutionFactory(logo=shared.image, logo_thumbnail=shared.thumbnail)
    gone = InstitutionFactory(logo=kept.logo.name, logo_thumbnail=kept.logo_thumbnail.name)
    aged(kept.logo, kept.logo_thumbnail)
    gone.delete()  # as after a merge, which gives the survivor the duplicate's logo

    assert run("--delete", "--with-history") == "0 files removed.\n"
    assert kept.logo.storage.exists(kept.logo.name)


def test_a_young_file_is_left_its_row_may_not_be_committed_yet():
    fresh = processed()
    photo = PhotoFactory(agreement=AgreementFactory(), image=fresh.image, thumbnail=fresh.thumbnail)
    image = photo.image
    photo.delete()

    assert run("--delete", "--with-history") == "0 files removed.\n"
    assert image.storage.exists(image.name)


def test_no_media_folder_yet_is_said_as_no_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # nothing uploaded yet

    assert run("--delete") == "0 files removed.\n"
    assert run() == ""  # as for an empty folder: no file to list
