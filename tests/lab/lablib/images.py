"""Screenshots: qemu's PPM screendumps converted to PNG, and PNGs compared, with the readers
of guest/desktop/screen-check.py."""

import importlib.util
import os
import struct
import zlib

from .util import LAB_DIR, LabError

SCREEN_CHECK = os.path.join(LAB_DIR, "guest", "desktop", "screen-check.py")


def screen_check():
    """guest/desktop/screen-check.py as a module: its PPM and PNG readers."""
    spec = importlib.util.spec_from_file_location("screen_check", SCREEN_CHECK)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ppm_to_png(ppm_path, png_path):
    """Converts a binary PPM (P6, maxval 255, as qemu's screendump writes) to PNG."""
    with open(ppm_path, "rb") as f:
        data = f.read()
    try:
        width, height, _, pixels = screen_check().read_ppm(data)
    except (ValueError, IndexError) as e:
        raise LabError("%s: %s" % (ppm_path, e))
    stride = width * 3
    raw = b"".join(b"\0" + pixels[y * stride:(y + 1) * stride] for y in range(height))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
    with open(png_path, "wb") as f:
        f.write(png)


def png_size(path):
    """(width, height) of a PNG file, or None if it is not one."""
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def screen_diff(a, b):
    """How many pixels differ between two screenshots of the same size (guest/desktop/
    screen-check.py reads them), or 0 when they cannot be compared."""
    mod = screen_check()
    try:
        images = []
        for path in (a, b):
            with open(path, "rb") as f:
                images.append(mod.read_png(f.read()))
    except (OSError, ValueError, IndexError, struct.error, zlib.error):
        return 0
    (w1, h1, bpp1, p1), (w2, h2, bpp2, p2) = images
    if (w1, h1, bpp1) != (w2, h2, bpp2):
        return 0
    return sum(1 for i in range(0, len(p1), bpp1) if p1[i:i + bpp1] != p2[i:i + bpp1])

