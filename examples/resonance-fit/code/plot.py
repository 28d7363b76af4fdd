"""Plot the mass spectrum, marking the fitted peak: a PNG figure and a text histogram.

The PNG is drawn and encoded with the standard library only (zlib), so the step runs on any
host Python and in the plain ``python:3.11-slim`` image.
"""

import argparse
import csv
import json
import struct
import zlib

LOW, HIGH = 100.0, 150.0
WIDTH, HEIGHT, MARGIN = 640, 400, 40
# 3x5 digits for the axis labels, one row of 3 bits per line.
DIGITS = {
    "0": (7, 5, 5, 5, 7), "1": (2, 6, 2, 2, 7), "2": (7, 1, 7, 4, 7), "3": (7, 1, 7, 1, 7),
    "4": (5, 5, 7, 1, 1), "5": (7, 4, 7, 1, 7), "6": (7, 4, 7, 5, 7), "7": (7, 1, 1, 1, 1),
    "8": (7, 5, 7, 5, 7), "9": (7, 5, 7, 1, 7),
}


def histogram(masses, bins):
    """Event counts in ``bins`` equal bins between LOW and HIGH."""
    width = (HIGH - LOW) / bins
    counts = [0] * bins
    for mass in masses:
        index = int((mass - LOW) / width)
        if 0 <= index < bins:
            counts[index] += 1
    return counts


def text_plot(counts, fit):
    """The histogram as text, the peak's bin marked."""
    width = (HIGH - LOW) / len(counts)
    scale = 50 / max(counts)
    lines = [f"m [GeV]      events   (peak at {fit['mass']} GeV, width {fit['width']} GeV)"]
    for index, count in enumerate(counts):
        start = LOW + index * width
        mark = " <- peak" if start <= fit["mass"] < start + width else ""
        bar = "#" * round(count * scale)
        lines.append(f"{start:6.1f}-{start + width:5.1f} {count:6d} {bar}{mark}")
    return "\n".join(lines) + "\n"


class Canvas:
    """An RGB pixel buffer that writes itself as a PNG."""

    def __init__(self, width, height):
        self.width, self.height = width, height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def box(self, x0, y0, x1, y1, colour):
        for y in range(max(0, y0), min(self.height, y1)):
            row = (y * self.width) * 3
            for x in range(max(0, x0), min(self.width, x1)):
                self.pixels[row + x * 3: row + x * 3 + 3] = colour

    def text(self, x, y, digits, colour, scale=2):
        for char in digits:
            for row, bits in enumerate(DIGITS[char]):
                for col in range(3):
                    if bits & (4 >> col):
                        self.box(x + col * scale, y + row * scale, x + (col + 1) * scale,
                                 y + (row + 1) * scale, colour)
            x += 4 * scale

    def png(self):
        raw = b"".join(b"\x00" + bytes(self.pixels[y * self.width * 3:(y + 1) * self.width * 3])
                       for y in range(self.height))

        def chunk(kind, data):
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def figure(counts, fit):
    """Bars of the spectrum, the fitted peak as a red line, x axis labelled in GeV."""
    canvas = Canvas(WIDTH, HEIGHT)
    left, right, top, bottom = MARGIN, WIDTH - MARGIN, MARGIN, HEIGHT - MARGIN
    bar = (right - left) / len(counts)
    for index, count in enumerate(counts):
        height = round((bottom - top) * count / max(counts))
        canvas.box(round(left + index * bar) + 1, bottom - height, round(left + (index + 1) * bar),
                   bottom, (70, 110, 180))
    peak = round(left + (fit["mass"] - LOW) / (HIGH - LOW) * (right - left))
    canvas.box(peak - 1, top, peak + 2, bottom, (210, 40, 40))
    canvas.box(left, bottom, right, bottom + 2, (0, 0, 0))
    canvas.box(left - 2, top, left, bottom + 2, (0, 0, 0))
    for value in range(int(LOW), int(HIGH) + 1, 10):
        x = round(left + (value - LOW) / (HIGH - LOW) * (right - left))
        canvas.box(x, bottom + 2, x + 2, bottom + 8, (0, 0, 0))
        canvas.text(x - 11, bottom + 12, str(value), (0, 0, 0))
    return canvas.png()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--fit", required=True)
    parser.add_argument("--bins", type=int, default=20)
    parser.add_argument("--output", required=True, help="the text histogram")
    parser.add_argument("--figure", required=True, help="the PNG figure")
    args = parser.parse_args()
    with open(args.input) as handle:
        masses = [float(row["mass"]) for row in csv.DictReader(handle)]
    with open(args.fit) as handle:
        fit = json.load(handle)
    counts = histogram(masses, args.bins)
    with open(args.output, "w") as handle:
        handle.write(text_plot(counts, fit))
    with open(args.figure, "wb") as handle:
        handle.write(figure(counts, fit))
    print(f"plotted {len(masses)} events in {args.bins} bins, peak at {fit['mass']} GeV: "
          f"{args.figure}, {args.output}")


if __name__ == "__main__":
    main()
