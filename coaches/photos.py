"""Coach photos: what is accepted, and the one form a photo is stored in.

An upload is never stored as it came. It is decoded by Pillow within a pixel
limit checked before decoding, and a new file is written: a square JPEG of the
size the directory card shows (at 2x), without any of the upload's metadata
(EXIF with its location and camera, ICC profile, comments), under a random
name that changes with every upload. Anything Pillow cannot decode cleanly as
a JPEG or PNG, or that also carries web page code, is refused with a sentence
for the coach. docs/architecture.md, "Rules and where they live".

Why JPEG: every browser, mail client and image tool opens it, Pillow always
has the encoder, a face needs no transparency, and at 128 px WebP would save a
couple of kilobytes at most.
"""

from __future__ import annotations

import io
import re
import uuid

from django.core.files import File
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from config.errors import DomainError

MAX_PHOTO_BYTES = 2 * 1024 * 1024  # what the form tells the coach
MAX_PHOTO_PIXELS = 24_000_000  # 6000 x 4000: a full-size camera photo
PHOTO_SIZE = 128  # px, square: the card's 64 px avatar at 2x
PHOTO_QUALITY = 85
ACCEPTED_FORMATS = ("JPEG", "PNG")  # MPO (a phone's JPEG with extra frames) opens as JPEG
# Pillow's own decompression-bomb guard, at the same limit, for every image this
# process opens: above twice the limit Image.open refuses before reading pixels.
Image.MAX_IMAGE_PIXELS = MAX_PHOTO_PIXELS

# What makes a browser treat bytes as a web page (the WHATWG sniffing signatures
# that can run script), followed by a space, "/" or ">". Compressed pixels of a
# 2 MB photo hold such a sequence by chance about once in ten thousand uploads.
_MARKUP = re.compile(rb"<(?:!doctype\s+html|html|head|body|script|iframe|svg)[\s/>]", re.I)


class PhotoRefused(DomainError):
    code = "photo_refused"
    message = "Upload a valid image: a JPEG or PNG photo."
    http_status = 400


def photo_reencode(*, upload: File) -> ContentFile[bytes]:
    """The photo to store for `upload`: a PHOTO_SIZE square JPEG with no metadata.

    Raises PhotoRefused, with a sentence for the coach, for anything over
    MAX_PHOTO_BYTES or MAX_PHOTO_PIXELS, not a JPEG or PNG, damaged or
    incomplete, or carrying web page code (a PNG/HTML polyglot).
    """
    if upload.size is not None and upload.size > MAX_PHOTO_BYTES:
        raise PhotoRefused("The photo is larger than 2 MB; please upload a smaller one.")
    upload.seek(0)
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRefused("The photo is larger than 2 MB; please upload a smaller one.")
    if _MARKUP.search(data):
        raise PhotoRefused(
            "This file holds web page code as well as a picture, so it is not accepted. "
            "Save the photo again as a plain JPEG or PNG and upload that."
        )
    try:
        image = _decode(data)
        image = ImageOps.exif_transpose(image)  # phones record "rotate" in EXIF, which goes
        image = _on_white(image)
        image = ImageOps.fit(image, (PHOTO_SIZE, PHOTO_SIZE), Image.Resampling.LANCZOS)
        # A new image from the pixels alone: Pillow would otherwise carry the upload's
        # comment (and whatever else is in .info) into the saved JPEG.
        pixels = Image.frombytes("RGB", image.size, image.tobytes())
        out = io.BytesIO()
        pixels.save(out, "JPEG", quality=PHOTO_QUALITY, optimize=True)
    except PhotoRefused:
        raise
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except UnidentifiedImageError:
        raise PhotoRefused(
            "Upload a valid image: this file is not a JPEG or PNG photo. "
            "Save it as one and upload it again."
        ) from None
    except Exception:  # noqa: BLE001 - Pillow's decoders fail in many ways on bad input
        raise PhotoRefused(
            "Upload a valid image: this photo is damaged or incomplete. "
            "Save it again and upload the new file."
        ) from None
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.jpg")


def _decode(data: bytes) -> Image.Image:
    """Open (the header only), check the pixel count, then decode every pixel."""
    image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    width, height = image.size
    if width * height > MAX_PHOTO_PIXELS:
        raise _too_many_pixels(width, height)
    # A JPEG decodes at 1/2, 1/4 or 1/8 scale when that still covers the output.
    image.draft("RGB", (PHOTO_SIZE * 2, PHOTO_SIZE * 2))
    image.load()  # every pixel: a truncated or corrupt file fails here
    return image


def _too_many_pixels(width: int | None = None, height: int | None = None) -> PhotoRefused:
    size = f"{width} x {height} pixels" if width and height else "too many pixels"
    return PhotoRefused(
        f"The photo has {size}; the most we take is 24 megapixels (6000 x 4000). "
        "Please upload a smaller version."
    )


def _on_white(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on white (JPEG has no alpha channel)."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
