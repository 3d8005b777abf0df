"""Read an untrusted image file into an RGBA array, or fail with one line that names the file."""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = ("PNG", "JPEG", "BMP", "WEBP", "TIFF", "GIF")  # JPEG includes phones' multi-picture (MPO) files
MAX_BYTES = 20_000_000
MAX_PIXELS = 40_000_000
_HIGH_DEPTH_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


class ImageError(ValueError):
    """A file that is not a readable image; the message is one line that starts with the file's name."""


def read_image(
    source, *, name: str | None = None, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """(h, w, 4) uint8 RGBA of the first frame, upright as its EXIF orientation says.

    `source` is a path, bytes, or a binary file-like object (read from its current position);
    `name` is what error messages call it (default: the path, the file object's name, or
    "input"). Sizes are checked before decoding: at most `max_bytes` of file and `max_pixels`
    pixels, as read from the image header.
    """
    name, data = _read_bytes(source, name, max_bytes)
    with warnings.catch_warnings():
        # Pillow's warnings about damaged metadata would reach a page or the CLI as noise: the file
        # either decodes or is an ImageError. Only a bomb's warning (between 89 and 179 megapixels;
        # above, Pillow raises) is an error. The filters are process-wide, held for one decode.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=FORMATS) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageError(
                        f"{name}: image too large ({width}×{height} pixels; "
                        f"the limit is {max_pixels / 1e6:g} megapixels)"
                    )
                image.load()
                return _to_rgba(ImageOps.exif_transpose(image))
        except ImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageError(
                f"{name}: image too large (more than {Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels; "
                f"the limit is {max_pixels / 1e6:g} megapixels)"
            ) from None
        except UnidentifiedImageError:
            raise ImageError(f"{name}: not an image (unrecognised format)") from None
        except Exception:
            # Pillow's decoders answer malformed data with many exception types (OSError,
            # SyntaxError, struct.error, IndexError, ...); from untrusted bytes all mean one thing.
            raise ImageError(f"{name}: corrupt or truncated image") from None


def _read_bytes(source, name: str | None, max_bytes: int) -> tuple[str, bytes]:
    if isinstance(source, (str, os.PathLike)):
        name = name or os.fspath(source)
        try:
            with open(source, "rb") as file:
                data = file.read(max_bytes + 1)
        except OSError as error:
            raise ImageError(f"{name}: cannot open ({error.strerror or error})") from None
    elif isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "input"
        data = bytes(source)
    elif hasattr(source, "read"):
        name = name or str(getattr(source, "name", "input"))
        data = source.read(max_bytes + 1)
    else:
        raise TypeError(f"read_image needs a path, bytes or a binary file, not {type(source).__name__}")
    if not data:
        raise ImageError(f"{name}: empty file")
    if len(data) > max_bytes:
        raise ImageError(f"{name}: file too large (the limit is {max_bytes / 1e6:g} MB)")
    return name, data


def _to_rgba(image: Image.Image) -> np.ndarray:
    if image.mode not in _HIGH_DEPTH_MODES:
        # convert() applies palette and tRNS transparency and turns CMYK into RGB.
        return np.array(image.convert("RGBA"))
    # Pillow's own conversion of 16-bit and 32-bit samples to 8 bits clips instead of scaling.
    levels = np.asarray(image, dtype=np.float64)
    if image.mode != "F" and levels.min() >= 0 and levels.max() <= 65535:
        levels = levels / 257
    else:
        # Signed or floating-point samples have no fixed white: stretch the range present.
        low, high = levels.min(), levels.max()
        levels = (levels - low) * (255 / (high - low)) if high > low else np.zeros_like(levels)
    gray = np.rint(levels).astype(np.uint8)
    return np.dstack([gray, gray, gray, np.full_like(gray, 255)])
