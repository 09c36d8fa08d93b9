"""Coach photos are decoded and stored anew; anything else is refused (coaches/photos.py).

Every attack from issue 13 is uploaded through the coach's own profile form and
must be refused with a sentence, writing nothing: no file, no change, no audit.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse
from django.test import Client
from PIL import Image, PngImagePlugin
from pytest_django import DjangoCaptureOnCommitCallbacks

from accounts.models import AuditEvent
from coaches.models import CoachProfile
from coaches.photos import PHOTO_SIZE
from engagements.models import Program
from tests import factories
from tests.coaches.conftest import enrol, pool
from tests.signin import login_verified

pytestmark = pytest.mark.django_db
URL = "/coach/profile/"
STORED_NAME = re.compile(r"^coaches/[0-9a-f]{32}\.jpg$")


# --- files -------------------------------------------------------------------------


def jpeg(size: tuple[int, int] = (600, 400), color: Any = "teal", **save: Any) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", **save)
    return buffer.getvalue()


def png(image: Image.Image | None = None, **save: Any) -> bytes:
    buffer = io.BytesIO()
    (image or Image.new("RGB", (300, 300), "orange")).save(buffer, "PNG", **save)
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of_blank_pixels(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width x height, compressed row by row: 100 megapixels in ~12 KB."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the pixels
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def with_exif_and_icc() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x013B] = "Ada Lovelace"  # Artist
    exif[0x8825] = {2: (48.0, 51.0, 24.0)}  # GPS latitude
    icc = b"\x00" * 128 + b"acsp-fake-profile"
    return jpeg((900, 600), exif=exif.tobytes(), icc_profile=icc, comment=b"taken at home")


HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def polyglot_in_a_chunk() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", HTML.decode())
    return png(pnginfo=info)


def polyglot_appended() -> bytes:
    return png() + HTML


def gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (50, 50)).save(buffer, "GIF")
    return buffer.getvalue()


# --- helpers -----------------------------------------------------------------------


def form_data(**extra: Any) -> dict[str, Any]:
    return {
        "headline": "Coach",
        "bio": "",
        "time_zone": "Europe/Paris",
        "booking_url": "https://cal.example.com/me",
        "accepting_new": "on",
        **extra,
    }


def upload(client: Client, content: bytes, name: str = "me.jpg") -> Any:
    photo = SimpleUploadedFile(name, content, content_type="image/jpeg")
    return client.post(URL, form_data(photo=photo))


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def coach_client(client: Client, coach: CoachProfile) -> Client:
    client.force_login(coach.user)
    return client


# --- accepted ----------------------------------------------------------------------


def test_a_jpeg_is_stored_anew_square_small_and_without_its_metadata(
    coach_client: Client, coach: CoachProfile
) -> None:
    original = with_exif_and_icc()

    response = upload(coach_client, original)

    assert response.status_code == 302
    coach.refresh_from_db()
    assert STORED_NAME.match(coach.photo.name or "")  # a new random name, not "me.jpg"
    stored = Path(coach.photo.path).read_bytes()
    assert stored != original
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert image.size == (PHOTO_SIZE, PHOTO_SIZE)
        assert not image.getexif()
        assert "icc_profile" not in image.info and "comment" not in image.info
    for secret in (b"PhoneMaker", b"Ada Lovelace", b"taken at home", b"acsp-fake-profile"):
        assert secret not in stored


def test_the_rotation_a_phone_records_is_applied_before_it_is_dropped(
    coach_client: Client, coach: CoachProfile
) -> None:
    # Landscape pixels, red on the left; EXIF says "rotate 90 degrees clockwise to view".
    image = Image.new("RGB", (400, 200), "blue")
    image.paste("red", (0, 0, 200, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())

    upload(coach_client, buffer.getvalue())

    coach.refresh_from_db()
    with Image.open(coach.photo.path) as stored:
        top, bottom = stored.getpixel((64, 10)), stored.getpixel((64, 117))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)  # RGB, not one band
    assert top[0] > 200 and top[2] < 80  # red is now on top
    assert bottom[2] > 200 and bottom[0] < 80


def test_a_transparent_png_becomes_a_jpeg_on_white(
    coach_client: Client, coach: CoachProfile
) -> None:
    upload(coach_client, png(Image.new("RGBA", (200, 200), (0, 0, 0, 0))), name="me.png")

    coach.refresh_from_db()
    with Image.open(coach.photo.path) as stored:
        assert stored.format == "JPEG"
        pixel = stored.getpixel((64, 64))
        assert isinstance(pixel, tuple) and min(pixel) > 245


# --- refused -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        pytest.param(polyglot_in_a_chunk(), "me.png", "web page code", id="png-html-polyglot"),
        pytest.param(polyglot_appended(), "me.png", "web page code", id="html-after-the-png"),
        pytest.param(jpeg(comment=HTML), "me.jpg", "web page code", id="html-in-a-jpeg-comment"),
        pytest.param(gif(), "me.png", "not a JPEG or PNG photo", id="gif-named-png"),
        pytest.param(
            png_of_blank_pixels(10_000, 10_000),
            "me.png",
            "the most we take is 24 megapixels",
            id="100-megapixel-png",
        ),
        pytest.param(
            png_of_blank_pixels(6_000, 5_000),
            "me.png",
            "6000 x 5000 pixels; the most we take is 24 megapixels",
            id="30-megapixel-png",
            # Pillow warns over its MAX_IMAGE_PIXELS (our limit) and refuses only over
            # twice that; our own check refuses before any pixel is decoded.
            marks=pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
        ),
        pytest.param(jpeg()[:-600], "me.jpg", "damaged or incomplete", id="truncated-jpeg"),
        pytest.param(png()[:-40], "me.png", "damaged or incomplete", id="truncated-png"),
        pytest.param(b"not an image", "me.png", "Upload a valid image", id="not-an-image"),
        pytest.param(
            b"\xff\xd8" + b"\x00" * (2 * 1024 * 1024), "me.jpg", "larger than 2 MB", id="over-2-mb"
        ),
    ],
)
def test_an_unsafe_or_broken_photo_is_refused_and_nothing_is_written(
    coach_client: Client, coach: CoachProfile, content: bytes, name: str, message: str
) -> None:
    before = (coach.photo.name, coach.updated_at)

    response = upload(coach_client, content, name)

    assert response.status_code == 200
    assert message in response.content.decode()
    coach.refresh_from_db()
    assert (coach.photo.name, coach.updated_at) == before
    assert stored_files() == []
    assert not AuditEvent.objects.filter(action="coach.profile_updated").exists()


def test_the_100_megapixel_png_is_small_enough_to_pass_the_byte_limit() -> None:
    """The bomb is refused for its pixels, not its size: it is about 12 KB."""
    assert len(png_of_blank_pixels(10_000, 10_000)) < 20_000


# --- the old file ------------------------------------------------------------------


def test_replacing_the_photo_removes_the_old_file_after_commit(
    coach_client: Client,
    coach: CoachProfile,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    upload(coach_client, jpeg(color="red"))
    coach.refresh_from_db()
    first = Path(coach.photo.path)

    with django_capture_on_commit_callbacks() as callbacks:
        upload(coach_client, jpeg(color="green"))
        assert first.exists()  # still named by the row until the change is committed
    for callback in callbacks:
        callback()

    coach.refresh_from_db()
    assert not first.exists()
    assert stored_files() == [Path(coach.photo.path)]


def test_clearing_the_photo_removes_the_file(
    coach_client: Client,
    coach: CoachProfile,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    upload(coach_client, jpeg())
    coach.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(URL, form_data(**{"photo-clear": "on"}))

    coach.refresh_from_db()
    assert not coach.photo
    assert stored_files() == []


def test_a_photo_staff_upload_in_the_admin_is_stored_anew_too(
    client: Client, coach: CoachProfile
) -> None:
    login_verified(client, factories.UserFactory(role="staff"))
    url = f"/admin/coaches/coachprofile/{coach.pk}/change/"
    page = client.get(url).context["adminform"].form
    data = {
        key: value
        for key, value in page.initial.items()
        if value is not None and key not in ("photo", "specialties", "languages")
    }
    data["user"] = coach.user.pk

    refused = client.post(url, {**data, "photo": SimpleUploadedFile("x.png", polyglot_appended())})
    accepted = client.post(url, {**data, "photo": SimpleUploadedFile("x.jpg", with_exif_and_icc())})

    assert refused.status_code == 200 and "web page code" in refused.content.decode()
    assert accepted.status_code == 302
    coach.refresh_from_db()
    assert STORED_NAME.match(coach.photo.name or "")
    assert b"Ada Lovelace" not in Path(coach.photo.path).read_bytes()


# --- served ------------------------------------------------------------------------


def test_the_directory_card_shows_the_photo_and_its_address_serves_it(
    client: Client, program: Program
) -> None:
    engagement = enrol(program)
    (coach,) = pool(program, 1, user__full_name="Ada Lovelace")
    client.force_login(coach.user)
    upload(client, jpeg())
    coach.refresh_from_db()
    client.force_login(engagement.participant)

    body = client.get("/coaches/").content.decode()
    src = re.search(r'<img class="avatar" src="([^"]+)"', body)
    assert src and src.group(1) == f"/media/{coach.photo.name}"
    response = client.get(src.group(1))

    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    # Kept by the browser for a year: the name changes when the photo does.
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert b"".join(response.streaming_content) == Path(coach.photo.path).read_bytes()


def test_a_photo_is_served_without_sign_in_and_answers_head_but_not_post(
    client: Client, coach: CoachProfile
) -> None:
    client.force_login(coach.user)
    upload(client, jpeg())
    coach.refresh_from_db()
    url = f"/media/{coach.photo.name}"
    anonymous = Client()

    assert anonymous.get(url).status_code == 200
    assert anonymous.head(url).status_code == 200
    assert anonymous.post(url).status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "/media/",
        "/media/coaches/",
        "/media/coaches/../../config/settings.py",
        "/media/coaches/%2e%2e%2f%2e%2e%2fconfig%2fsettings.py",
        "/media/coaches/..%2fcoaches%2f" + "a" * 32 + ".jpg",
        "/media/coaches/" + "A" * 32 + ".jpg",
        "/media/coaches/" + "a" * 32 + ".png",
        "/media/coaches/me.jpg",
    ],
)
def test_no_listing_and_no_other_path_is_served(client: Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_only_a_photo_a_profile_holds_now_is_served(
    client: Client,
    coach: CoachProfile,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    client.force_login(coach.user)
    upload(client, jpeg(color="red"))
    coach.refresh_from_db()
    replaced = f"/media/{coach.photo.name}"
    orphan = Path(settings.MEDIA_ROOT) / "coaches" / ("b" * 32 + ".jpg")
    orphan.write_bytes(jpeg())  # on disk, but no profile names it

    with django_capture_on_commit_callbacks(execute=False):  # the old file stays on disk
        upload(client, jpeg(color="green"))

    assert Path(settings.MEDIA_ROOT, replaced.removeprefix("/media/")).exists()
    assert client.get(replaced).status_code == 404
    assert client.get(f"/media/coaches/{orphan.name}").status_code == 404
