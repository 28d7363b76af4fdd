"""Generate invariant-mass events: a Gaussian peak over a falling background."""

import argparse
import csv
import random


def load_calibration(path):
    """Mass ranges and their energy-scale corrections."""
    with open(path) as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return [(float(r["low"]), float(r["high"]), float(r["scale"])) for r in rows]


def calibrate(mass, table):
    for low, high, scale in table:
        if low <= mass < high:
            return mass * scale
    return mass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--calibration", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    table = load_calibration(args.calibration)
    signal = args.events // 5
    with open(args.output, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["mass"])
        for index in range(args.events):
            if index < signal:
                mass = rng.gauss(125.0, 2.0)
            else:
                mass = 100.0 + rng.expovariate(1 / 25.0)
            if 100.0 <= mass < 150.0:
                writer.writerow([f"{calibrate(mass, table):.4f}"])
    print(f"generated {args.events} events ({signal} signal) into {args.output}")


if __name__ == "__main__":
    main()
