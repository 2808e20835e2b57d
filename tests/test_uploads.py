"""Uploaded images: what is refused (each with a message a person can act on), what is kept
of what is accepted, and who may download it: logos anyone, a photo only while its agreement
is published (and staff who may view photos)."""

import io
import re
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from registry.images import process_image
from tests.factories import AgreementFactory, InstitutionFactory, PhotoFactory, UserFactory

RANDOM_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")


def image_bytes(image_format="PNG", size=(40, 30), **save):
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format=image_format, **save)
    return buffer.getvalue()


def upload(name, content):
    return SimpleUploadedFile(name, content)


def refusal(file):
    with pytest.raises(ValidationError) as refused:
        process_image(file)
    return " ".join(refused.value.messages)


def png_claiming(width, height):
    """A few hundred bytes whose header claims width × height pixels: a decompression bomb."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    pixels = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# What is refused


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.IMAGE_MAX_BYTES = 1000
    content = image_bytes(size=(300, 300), compress_level=0)
    assert len(content) > 1000

    assert refusal(upload("photo.png", content)) == "The file is larger than 1000\xa0bytes."


def test_the_size_limit_reads_in_megabytes_by_default():
    big = upload("photo.png", b"\0" * (10 * 1024 * 1024 + 1))
    assert refusal(big) == "The file is larger than 10.0\xa0MB."


def test_an_image_over_the_pixel_limit_is_refused(settings):
    settings.IMAGE_MAX_PIXELS = 1000

    message = refusal(upload("photo.png", image_bytes(size=(40, 30))))

    assert message == "The image has 1,200 pixels; the limit is 1,000."


def test_a_camera_s_large_jpeg_is_read_at_a_smaller_scale_within_the_limit(settings):
    """A JPEG four times the pixel limit decodes at half its sides, and is accepted; a PNG as
    large has no such scale, and is not."""
    settings.IMAGE_MAX_PIXELS, settings.IMAGE_MAX_SIDE = 1_000_000, 400
    photo = process_image(upload("camera.jpg", image_bytes("JPEG", size=(2000, 1500))))
    with Image.open(photo.image) as stored:
        assert stored.size == (400, 300)

    message = refusal(upload("scan.png", image_bytes(size=(2000, 1500))))
    assert message == "The image has 3,000,000 pixels; the limit is 1,000,000."


def test_a_decompression_bomb_is_refused_without_being_decoded():
    bomb = png_claiming(30_000, 30_000)  # 900 million pixels in a few hundred bytes
    assert len(bomb) < 1000

    assert refusal(upload("photo.png", bomb)) == (
        "The image has too many pixels; the limit is 40,000,000."
    )


def test_a_bomb_below_pillows_own_limit_meets_ours():
    assert refusal(upload("photo.png", png_claiming(8000, 6000))) == (
        "The image has 48,000,000 pixels; the limit is 40,000,000."
    )


def test_a_png_whose_text_unpacks_too_large_is_refused():
    text = zlib.compress(b"x" * 2_000_000)  # Pillow refuses to unpack more than 1 MB of text
    chunk = struct.pack(">I", len(text) + 10) + b"zTXtComment\0\0" + text
    chunk += struct.pack(">I", zlib.crc32(chunk[4:]))
    original = image_bytes()
    bomb = original[:33] + chunk + original[33:]  # after the 8-byte signature and IHDR

    assert (
        refusal(upload("logo.png", bomb)) == "The file is not a readable JPEG, PNG or WebP image."
    )


def test_an_svg_is_refused():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'

    message = refusal(upload("logo.svg", svg))

    assert message == "The file is not a readable JPEG, PNG or WebP image."


def test_html_dressed_as_an_image_is_refused():
    html = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"

    assert refusal(upload("photo.jpg", html)) == (
        "The file is not a readable JPEG, PNG or WebP image."
    )


@pytest.mark.parametrize(
    ("name", "image_format", "message"),
    [
        ("photo.jpg", "PNG", "The file is named .jpg but holds a PNG image."),
        ("photo.png", "JPEG", "The file is named .png but holds a JPEG image."),
        ("photo.html", "JPEG", "The file is named .html but holds a JPEG image."),
        ("photo.jpg.php", "JPEG", "The file is named .php but holds a JPEG image."),
    ],
)
def test_a_file_whose_extension_lies_is_refused(name, image_format, message):
    assert refusal(upload(name, image_bytes(image_format))) == message


def test_another_image_format_is_refused():
    assert refusal(upload("anim.gif", image_bytes("GIF"))) == (
        "Only JPEG, PNG and WebP images are accepted."
    )


@pytest.mark.parametrize(
    ("name", "image_format"),
    [("photo.JPG", "JPEG"), ("photo.jpeg", "JPEG"), ("scan.png", "PNG"), ("shot.webp", "WEBP")],
)
def test_a_file_named_as_what_it_is_is_accepted(name, image_format):
    assert process_image(upload(name, image_bytes(image_format))).image.size > 0


# What is kept


def gps_exif():
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    exif[0x8825] = {2: (31.0, 13.0, 41.0), 4: (121.0, 24.0, 2.0)}  # GPS: latitude, longitude
    return exif


def test_a_stored_jpeg_keeps_no_metadata():
    original = image_bytes("JPEG", exif=gps_exif(), comment=b"<script>alert(1)</script>")
    with Image.open(io.BytesIO(original)) as image:  # the camera's data is there to begin with
        assert image.getexif() and image.info["comment"]

    processed = process_image(upload("ceremony.jpg", original))

    for stored in (processed.image, processed.thumbnail):
        data = stored.read()
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif()
            assert "exif" not in image.info and "comment" not in image.info
        assert b"alert(1)" not in data


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_a_photo_taken_upright_is_stored_upright(image_format):
    """A phone held upright saves the picture as its sensor saw it (on its side) and says in
    its metadata to turn it. The metadata is dropped, so the photo showed on its side."""
    sideways = Image.new("RGB", (40, 20), "red")
    sideways.paste("blue", (20, 0, 40, 20))  # the sensor's right half: the photo's bottom
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turn 90° clockwise to show
    buffer = io.BytesIO()
    sideways.save(buffer, format=image_format, exif=exif)

    processed = process_image(upload(f"IMG_0002.{image_format.lower()}", buffer.getvalue()))

    for stored in (processed.image, processed.thumbnail):
        with Image.open(io.BytesIO(stored.read())) as image:
            assert image.size == (20, 40)
            top, bottom = image.convert("RGB").getpixel((10, 5)), image.getpixel((10, 35))
            assert top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]  # red above blue
            assert not image.getexif()


def test_a_phones_jpeg_with_more_pictures_in_it_is_stored_as_its_photo():
    """Some phones write MPO: a JPEG followed by more pictures (a preview, a depth map)."""
    buffer = io.BytesIO()
    photo, depth_map = Image.new("RGB", (40, 30), "teal"), Image.new("RGB", (40, 30), "black")
    photo.save(buffer, format="MPO", save_all=True, append_images=[depth_map])
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"

    processed = process_image(upload("IMG_0001.JPG", buffer.getvalue()))

    with Image.open(io.BytesIO(processed.image.read())) as stored:
        assert (stored.format, stored.size, getattr(stored, "n_frames", 1)) == ("JPEG", (40, 30), 1)
        assert stored.getpixel((20, 15))[1] > 100  # teal, the photo itself
    assert processed.image.name.endswith(".jpg")


def test_a_stored_png_keeps_no_text_and_nothing_after_the_image():
    text = PngInfo()
    text.add_text("Comment", "home address: 1 Secret Lane")
    original = image_bytes("PNG", pnginfo=text) + b"<script>alert(1)</script>"

    stored = process_image(upload("logo.png", original)).image.read()

    assert b"Secret Lane" not in stored
    assert b"<script>" not in stored
    assert stored != original
    assert Image.open(io.BytesIO(stored)).info.get("Comment") is None


def test_stored_images_have_random_names_unrelated_to_the_upload():
    first = process_image(upload("minister-visit.png", image_bytes()))
    second = process_image(upload("minister-visit.png", image_bytes()))

    names = [first.image.name, first.thumbnail.name, second.image.name, second.thumbnail.name]
    assert all(RANDOM_NAME.match(name) for name in names)
    assert len(set(names)) == 4


# Who may download what


@pytest.fixture
def photo_of():
    def make(agreement):
        processed = process_image(upload("ceremony.png", image_bytes()))
        return PhotoFactory(
            agreement=agreement, image=processed.image, thumbnail=processed.thumbnail
        )

    return make


def content(response):
    return b"".join(response.streaming_content)


@pytest.mark.django_db
def test_a_published_agreements_photo_and_thumbnail_are_served(client, photo_of):
    photo = photo_of(AgreementFactory(status="published"))

    for field in (photo.image, photo.thumbnail):
        response = client.get(field.url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "private" in response["Cache-Control"]
        field.open()
        assert content(response) == field.read()


@pytest.mark.django_db
def test_a_drafts_photo_is_not_found_though_its_file_exists(client, photo_of):
    photo = photo_of(AgreementFactory())
    assert photo.image.storage.exists(photo.image.name)

    assert client.get(photo.image.url).status_code == 404
    assert client.get(photo.thumbnail.url).status_code == 404


@pytest.mark.django_db
def test_a_withdrawn_agreements_photo_is_no_longer_served(client, photo_of):
    agreement = AgreementFactory(status="published")
    photo = photo_of(agreement)
    assert client.get(photo.image.url).status_code == 200

    agreement.withdraw(by=None, reason="Retracted by the source.")

    assert client.get(photo.image.url).status_code == 404


@pytest.mark.django_db
def test_staff_who_may_view_photos_see_a_drafts_photo(client, photo_of):
    photo = photo_of(AgreementFactory())
    client.force_login(UserFactory(group="Editors"))

    assert client.get(photo.image.url).status_code == 200


@pytest.mark.django_db
def test_staff_without_the_permission_do_not(client, photo_of):
    photo = photo_of(AgreementFactory())
    client.force_login(UserFactory())  # staff, in no group

    assert client.get(photo.image.url).status_code == 404


@pytest.mark.django_db
def test_nor_do_those_whose_staff_status_is_taken_away(client, photo_of):
    photo = photo_of(AgreementFactory())
    editor = UserFactory(group="Editors")
    client.force_login(editor)
    assert client.get(photo.image.url).status_code == 200

    editor.is_staff = False  # the session stays open, its groups too
    editor.save()

    assert client.get(photo.image.url).status_code == 404


@pytest.mark.django_db
def test_logos_are_public(client):
    processed = process_image(upload("logo.png", image_bytes()))
    institution = InstitutionFactory(logo=processed.image, logo_thumbnail=processed.thumbnail)

    assert client.get(institution.logo.url).status_code == 200
    assert client.get(institution.logo_thumbnail.url).status_code == 200


@pytest.mark.django_db
def test_a_file_no_record_names_is_not_found(client, settings):
    (settings.MEDIA_ROOT / "photos").mkdir(parents=True)
    (settings.MEDIA_ROOT / "photos" / "stray.png").write_bytes(image_bytes())

    assert client.get("/media/photos/stray.png").status_code == 404
    assert client.get("/media/../registry/settings.py").status_code == 404


@pytest.mark.django_db
def test_behind_nginx_the_file_is_left_to_it(client, settings, photo_of):
    settings.MEDIA_ACCEL_REDIRECT = "/protected-media/"
    photo = photo_of(AgreementFactory(status="published"))

    response = client.get(photo.image.url)

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{photo.image.name}"
    assert response["Content-Type"] == "image/png"
    assert response.content == b""


@pytest.mark.django_db
def test_behind_nginx_a_drafts_photo_is_still_not_found(client, settings, photo_of):
    settings.MEDIA_ACCEL_REDIRECT = "/protected-media/"
    photo = photo_of(AgreementFactory())

    response = client.get(photo.image.url)

    assert response.status_code == 404
    assert not response.has_header("X-Accel-Redirect")


def test_a_logo_keeps_its_transparent_colour():
    logo = Image.new("P", (40, 30), 1)
    logo.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    buffer = io.BytesIO()
    logo.save(buffer, format="PNG", transparency=1)

    processed = process_image(upload("logo.png", buffer.getvalue()))

    with Image.open(io.BytesIO(processed.image.read())) as stored:
        assert stored.convert("RGBA").getpixel((20, 15))[3] == 0
