#!/usr/bin/env python3
"""Checks a screenshot of a seat's display (run on the lab's host, not in the guest): how much
of it is the colour compositor.sh reported for the seat (its `rgb=R,G,B` line).

    screen-check.py IMAGE R,G,B [--min FRACTION]

IMAGE is QMP screendump's output: PNG (8-bit RGB or RGBA, not interlaced) or binary PPM.
Prints `fraction=F size=WxH`; exit 0 when at least FRACTION (default 0.5) of the pixels are
within 24 of R,G,B in each channel, 1 when not, 2 on an unreadable image.
"""
import argparse
import struct
import sys
import zlib


def read_ppm(data):
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError("not a binary 8-bit PPM")
    width, height = int(fields[1]), int(fields[2])
    return width, height, 3, data[pos + 1:pos + 1 + width * height * 3]


def read_png(data):
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, ctype, _, _, interlace = header
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("PNG is not 8-bit RGB(A), non-interlaced")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    out = bytearray(height * stride)
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return width, height, bpp, bytes(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("image")
    p.add_argument("rgb")
    p.add_argument("--min", type=float, default=0.5)
    args = p.parse_args()
    try:
        want = [int(v) for v in args.rgb.split(",")]
        if len(want) != 3:
            raise ValueError
    except ValueError:
        print("screen-check: colour must be R,G,B", file=sys.stderr)
        return 2
    try:
        with open(args.image, "rb") as f:
            data = f.read()
        if data.startswith(b"\x89PNG"):
            width, height, bpp, pixels = read_png(data)
        else:
            width, height, bpp, pixels = read_ppm(data)
    except (OSError, ValueError, IndexError, struct.error, zlib.error) as e:
        print("screen-check: %s: %s" % (args.image, e), file=sys.stderr)
        return 2
    match = 0
    for i in range(0, width * height * bpp, bpp):
        if all(abs(pixels[i + k] - want[k]) <= 24 for k in range(3)):
            match += 1
    fraction = match / float(width * height) if width and height else 0.0
    print("fraction=%.3f size=%dx%d" % (fraction, width, height))
    return 0 if fraction >= args.min else 1


if __name__ == "__main__":
    sys.exit(main())
