"""Writes the reference cases for the global_quantiles tests: values and numpy.nanquantile.

Usage: quantile_reference.py OUT_FILE
Run with Debian's /usr/bin/python3 (python3-numpy), independently of the C++ under test.

Format (hex floats from float.hex, which std::strtod reads):
    case NAME COUNT
    COUNT lines, one value each ("nan" for NaN)
    then one line per probability in PROBS: PROB EXPECTED
"""
import sys
import warnings

import numpy as np

PROBS = [0.0, 0.001, 0.01, 0.1, 0.25, 1 / 3, 0.5, 0.6, 0.75, 0.9, 0.99, 0.999, 1.0]


def cases():
    rng = np.random.default_rng(20261201)
    yield "normal_100k", rng.normal(size=100_000)
    yield "lognormal_50k", rng.lognormal(mean=3, sigma=4, size=50_000)
    yield "four_values_60k", rng.integers(0, 4, size=60_000).astype(float)
    with_nans = rng.normal(size=30_000)
    with_nans[rng.random(30_000) < 0.2] = np.nan
    yield "normal_with_nans", with_nans
    yield "signed_zeros", np.array([0.0, -0.0] * 50 + [1.0, -1.0])
    yield "subnormals", np.array([5e-324, -5e-324, 1e-310, 0.0, 2.2e-308, -1e-320] * 7)
    yield "huge_magnitudes", np.array([1e308, -1e308, 1.7e308, -1.7e308, 3.0, 1e-300] * 5)
    yield "single", np.array([42.5])
    yield "two", np.array([-1.0, 3.0])
    yield "all_nan", np.array([np.nan] * 5)
    yield "empty", np.array([], dtype=float)
    yield "uniform_20k", rng.random(20_000)
    yield "clustered_200k", np.concatenate([rng.normal(0, 1e-9, 150_000), rng.normal(1e6, 1, 50_000)])


def main():
    with open(sys.argv[1], "w") as out:
        for name, values in cases():
            values = np.asarray(values, dtype=np.float64)
            out.write(f"case {name} {len(values)}\n")
            for v in values:
                out.write("nan\n" if np.isnan(v) else float(v).hex() + "\n")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN and empty cases
                for p in PROBS:
                    q = np.nanquantile(values, p) if len(values) else np.nan
                    out.write(f"{float(p).hex()} {'nan' if np.isnan(q) else float(q).hex()}\n")


if __name__ == "__main__":
    main()
