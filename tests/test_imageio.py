"""Reading what users upload: every common format and mode, and a one-line ImageError for anything bad."""

import io
import random
import struct
import warnings
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from digitlab.imageio import ImageError, read_image


def encoded(image, format, **options):
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def png_claiming_size(width, height):
    """A valid tiny PNG whose header says width × height, as a decompression bomb's does."""
    data = encoded(Image.new("1", (1, 1)), "PNG")
    start = data.index(b"IHDR")
    chunk = bytearray(data[start : start + 17])  # chunk type and 13 bytes of header
    chunk[4:12] = struct.pack(">II", width, height)
    return data[:start] + bytes(chunk) + struct.pack(">I", zlib.crc32(chunk)) + data[start + 21 :]


def error_for(source, **options):
    with pytest.raises(ImageError) as caught:
        read_image(source, **options)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.fixture
def digit_rgba():
    rgba = np.zeros((30, 20, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[5:25, 8:12, :3] = 255
    rgba[0, 0] = (10, 200, 30, 128)
    return rgba


def test_png_round_trips_exactly(digit_rgba):
    result = read_image(encoded(Image.fromarray(digit_rgba), "PNG"))
    assert result.dtype == np.uint8 and result.shape == (30, 20, 4)
    assert np.array_equal(result, digit_rgba)


@pytest.mark.parametrize(
    "format, options",
    [("JPEG", {"quality": 95}), ("BMP", {}), ("WEBP", {"lossless": True}), ("TIFF", {}), ("GIF", {}), ("PNG", {})],
)
def test_common_formats_read_as_opaque_rgba(digit_rgba, format, options):
    rgb = digit_rgba[..., :3].copy()
    rgb[0, 0] = 0
    result = read_image(encoded(Image.fromarray(rgb), format, **options))
    assert result.dtype == np.uint8 and result.shape == (30, 20, 4)
    assert np.all(result[..., 3] == 255)
    assert np.abs(result[..., :3].astype(int) - rgb).mean() < 3


def test_paths_file_objects_and_bytes_read_the_same(tmp_path, digit_rgba):
    path = tmp_path / "digit.png"
    path.write_bytes(encoded(Image.fromarray(digit_rgba), "PNG"))
    from_path = read_image(path)
    assert np.array_equal(read_image(str(path)), from_path)
    with open(path, "rb") as file:
        assert np.array_equal(read_image(file), from_path)
    assert np.array_equal(read_image(io.BytesIO(path.read_bytes())), from_path)
    assert np.array_equal(read_image(bytearray(path.read_bytes())), from_path)


def test_16_bit_grayscale_is_scaled_not_clipped():
    levels = np.linspace(0, 65535, 256).astype(np.uint16).reshape(16, 16)
    result = read_image(encoded(Image.fromarray(levels), "PNG"))
    assert result.shape == (16, 16, 4)
    expected = np.rint(levels / 257).astype(np.uint8)
    assert np.abs(result[..., 0].astype(int) - expected).max() <= 1
    assert np.array_equal(result[..., 0], result[..., 2]) and np.all(result[..., 3] == 255)
    assert 120 <= result[8, 0, 0] <= 135  # mid-gray stays mid-gray


def test_cmyk_jpeg_reads_as_rgb():
    cmyk = Image.new("CMYK", (16, 16), (0, 0, 0, 0))  # white paper
    cmyk.paste((0, 0, 0, 255), (0, 0, 8, 16))  # black ink on the left half
    cmyk.paste((255, 0, 0, 0), (8, 0, 16, 4))  # cyan
    result = read_image(encoded(cmyk, "JPEG", quality=95)).astype(int)
    assert np.all(result[4:, :6, :3] < 30)
    assert np.all(result[6:, 10:, :3] > 225)
    red, green, blue = result[1, 12, :3]
    assert red < 60 and green > 200 and blue > 200


def test_palette_transparency_becomes_alpha():
    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    palette.paste(1, (2, 2, 6, 6))
    result = read_image(encoded(palette, "PNG", transparency=0))
    assert np.all(result[2:6, 2:6] == (0, 0, 0, 255))
    assert np.all(result[:2, :, 3] == 0)


@pytest.mark.parametrize("mode", ["LA", "RGBA"])
def test_transparent_png_keeps_its_alpha(mode):
    ink_on_alpha = Image.new(mode, (10, 10))
    ink_on_alpha.paste((0, 255) if mode == "LA" else (0, 0, 0, 255), (3, 3, 7, 7))
    result = read_image(encoded(ink_on_alpha, "PNG"))
    assert np.all(result[3:7, 3:7, 3] == 255) and np.all(result[:3, :, 3] == 0)
    assert np.all(result[3:7, 3:7, :3] == 0)


def test_gif_reads_its_first_frame():
    frames = [Image.new("P", (6, 6), index) for index in (1, 2)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * 759)
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert tuple(read_image(data)[0, 0]) == (255, 0, 0, 255)


def test_exif_orientation_is_applied():
    landscape = Image.new("RGB", (40, 20), (255, 255, 255))
    landscape.paste((0, 0, 0), (0, 0, 6, 6))  # a mark in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90° clockwise to view
    result = read_image(encoded(landscape, "JPEG", exif=exif.tobytes(), quality=95))
    assert result.shape == (40, 20, 4)
    assert result[:6, -6:, 0].mean() < 40  # the mark is now top-right
    assert result[:6, :6, 0].mean() > 215


def test_a_file_that_is_not_there_or_not_a_file(tmp_path):
    assert error_for(tmp_path / "missing.png").startswith(f"{tmp_path / 'missing.png'}: cannot open")
    assert error_for(tmp_path).startswith(f"{tmp_path}: cannot open")


def test_empty_input():
    assert error_for(b"", name="nothing.png") == "nothing.png: empty file"


def zip_of_a_png():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("seven.png", encoded(Image.new("L", (28, 28)), "PNG"))
    return archive.getvalue()


@pytest.mark.parametrize(
    "file_name, data",
    [
        ("notes.txt", b"seven, written out in words\n" * 20),
        ("digits.zip", zip_of_a_png()),
        ("page.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"),
    ],
)
def test_non_images_are_refused(tmp_path, file_name, data):
    path = tmp_path / file_name
    path.write_bytes(data)
    assert error_for(path) == f"{path}: not an image (unrecognised format)"


def test_truncated_and_corrupt_files_are_refused(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    png = encoded(Image.fromarray(noise), "PNG")
    truncated = tmp_path / "photo.png"
    truncated.write_bytes(png[: len(png) // 2])
    assert error_for(truncated) == f"{truncated}: corrupt or truncated image"
    damaged = bytearray(png)
    damaged[len(png) // 2 : len(png) // 2 + 64] = bytes(64)
    assert error_for(bytes(damaged), name="damaged.png").startswith("damaged.png: ")
    jpeg = encoded(Image.fromarray(noise), "JPEG")
    assert error_for(jpeg[:200], name="cut.jpg").startswith("cut.jpg: ")


def test_randomly_damaged_files_raise_only_image_error():
    noise = np.random.default_rng(1).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    originals = [encoded(Image.fromarray(noise), format) for format in ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")]
    rng = random.Random(0)
    with warnings.catch_warnings(record=True) as leaked:
        warnings.simplefilter("always")
        for original in originals:
            for _ in range(40):
                data = bytearray(original)
                for _ in range(rng.randint(1, 8)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
                data = bytes(data[: rng.randint(1, len(data))] if rng.random() < 0.3 else data)
                try:
                    result = read_image(data, name="fuzz")
                except ImageError as error:
                    assert str(error).startswith("fuzz: ") and "\n" not in str(error)
                else:
                    assert result.dtype == np.uint8 and result.ndim == 3 and result.shape[2] == 4
    assert not leaked  # Pillow's complaints about damaged metadata stay inside read_image


@pytest.mark.parametrize("width, height", [(30000, 30000), (10000, 10000)])
def test_decompression_bombs_are_refused_before_decoding(width, height):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's own bomb warning must not leak either
        message = error_for(png_claiming_size(width, height), name="big.png")
    assert message.startswith("big.png: image too large (more than ")
    assert message.endswith("the limit is 40 megapixels)")


def test_images_over_the_pixel_limit_are_refused_with_their_size():
    message = error_for(png_claiming_size(8000, 8000), name="big.png")
    assert message == "big.png: image too large (8000×8000 pixels; the limit is 40 megapixels)"
    small = encoded(Image.new("L", (100, 100)), "PNG")
    assert error_for(small, name="s.png", max_pixels=5000) == (
        "s.png: image too large (100×100 pixels; the limit is 0.005 megapixels)"
    )
    assert read_image(small, max_pixels=10_000).shape == (100, 100, 4)


def test_files_over_the_byte_limit_are_refused_unread():
    class EndlessFile(io.RawIOBase):
        name = "stream.png"

        def read(self, size=-1):
            assert 0 < size <= 1001  # never asked for more than the limit allows
            return b"\x89PNG" + bytes(size - 4)

    assert error_for(EndlessFile(), max_bytes=1000) == "stream.png: file too large (the limit is 0.001 MB)"


def test_other_sources_are_a_programming_error():
    with pytest.raises(TypeError):
        read_image(42)
