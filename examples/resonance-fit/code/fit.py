"""Fit the resonance: linear background from the side bands, peak from the subtracted bins."""

import argparse
import csv
import json
import math

WINDOW = (116.0, 134.0)
RANGE = (100.0, 150.0)
BIN = 0.5


def density(masses, low, high):
    """Events per GeV between ``low`` and ``high``."""
    return sum(1 for m in masses if low <= m < high) / (high - low)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    with open(args.input) as handle:
        masses = [float(row["mass"]) for row in csv.DictReader(handle)]
    # Background density, linear between the centres of the two side bands.
    left = ((RANGE[0] + WINDOW[0]) / 2, density(masses, RANGE[0], WINDOW[0]))
    right = ((WINDOW[1] + RANGE[1]) / 2, density(masses, WINDOW[1], RANGE[1]))
    slope = (right[1] - left[1]) / (right[0] - left[0])

    def background_at(mass):
        return max(left[1] + slope * (mass - left[0]), 0.0)

    bins = int((WINDOW[1] - WINDOW[0]) / BIN)
    centres, excess = [], []
    for index in range(bins):
        low = WINDOW[0] + index * BIN
        count = sum(1 for m in masses if low <= m < low + BIN)
        centres.append(low + BIN / 2)
        excess.append(count - background_at(low + BIN / 2) * BIN)
    signal = sum(excess)
    positive = [max(e, 0.0) for e in excess]
    weight = sum(positive) or 1.0
    mean = sum(c * w for c, w in zip(centres, positive, strict=True)) / weight
    var = sum((c - mean) ** 2 * w for c, w in zip(centres, positive, strict=True)) / weight
    background = sum(background_at(c) * BIN for c in centres)
    result = {
        "events": len(masses),
        "signal": round(signal, 1),
        "background": round(background, 1),
        "mass": round(mean, 2),
        "width": round(math.sqrt(var), 2),
        "significance": round(signal / math.sqrt(background), 1) if background else None,
    }
    with open(args.output, "w") as handle:
        json.dump(result, handle, indent=2)
        handle.write("\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
