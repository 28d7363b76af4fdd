"""Plot the mass spectrum as a text histogram, marking the fitted peak."""

import argparse
import csv
import json


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--fit", required=True)
    parser.add_argument("--bins", type=int, default=20)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    with open(args.input) as handle:
        masses = [float(row["mass"]) for row in csv.DictReader(handle)]
    with open(args.fit) as handle:
        fit = json.load(handle)
    low, high = 100.0, 150.0
    width = (high - low) / args.bins
    counts = [0] * args.bins
    for mass in masses:
        index = int((mass - low) / width)
        if 0 <= index < args.bins:
            counts[index] += 1
    scale = 50 / max(counts)
    lines = [f"m [GeV]      events   (peak at {fit['mass']} GeV, width {fit['width']} GeV)"]
    for index, count in enumerate(counts):
        start = low + index * width
        mark = " <- peak" if start <= fit["mass"] < start + width else ""
        bar = "#" * round(count * scale)
        lines.append(f"{start:6.1f}-{start + width:5.1f} {count:6d} {bar}{mark}")
    with open(args.output, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
