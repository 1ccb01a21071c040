"""Writes the reference cases for the global-statistics feature steps (impute, scale,
drop_constant): a table with NaNs, ties and a constant column, and what numpy, pandas and
scikit-learn make of it.

Usage: feature_stats_reference.py OUT_FILE
Run with Debian's /usr/bin/python3 (python3-numpy, -pandas, -sklearn), independently of the
C++ under test.

Format: blocks of `NAME ROWS COLS` followed by ROWS lines of COLS values (float.hex, which
std::strtod reads; "nan" for NaN). Conventions checked here: standard scaling divides by
the population standard deviation (ddof = 0, StandardScaler), quantiles are numpy's linear
interpolation (RobustScaler), a zero spread scales by 1.
"""
import sys

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

NAMES = ["wide", "ties", "constant", "tiny", "skewed"]
ROWS = 1001


def table():
    rng = np.random.default_rng(20261201)
    x = np.empty((ROWS, len(NAMES)))
    x[:, 0] = rng.normal(1e6, 3e3, ROWS)            # large mean, small spread: cancellation
    x[:, 1] = rng.integers(0, 7, ROWS).astype(float)  # many ties for the quantiles
    x[:, 2] = 7.25                                   # constant: zero spread
    x[:, 3] = rng.normal(0, 1e-9, ROWS)
    x[:, 4] = rng.lognormal(0, 2, ROWS)
    x[rng.random((ROWS, len(NAMES))) < 0.07] = np.nan
    return x


def write(out, name, values):
    values = np.atleast_2d(np.asarray(values, dtype=float))
    out.write(f"{name} {values.shape[0]} {values.shape[1]}\n")
    for row in values:
        out.write(" ".join(float(v).hex() for v in row) + "\n")


def main():
    x = table()
    frame = pd.DataFrame(x, columns=NAMES)
    q25, q50, q75 = np.nanquantile(x, [0.25, 0.5, 0.75], axis=0)
    spread = np.nanstd(x, axis=0, ddof=0)
    assert np.allclose(spread, frame.std(ddof=0).to_numpy())
    with open(sys.argv[1], "w") as out:
        write(out, "table", x)
        write(out, "mean", np.nanmean(x, axis=0))
        write(out, "std", spread)
        write(out, "median", np.nanmedian(x, axis=0))
        write(out, "iqr", q75 - q25)
        write(out, "min", np.nanmin(x, axis=0))
        write(out, "max", np.nanmax(x, axis=0))
        write(out, "impute_mean", SimpleImputer(strategy="mean").fit_transform(x))
        write(out, "impute_median", SimpleImputer(strategy="median").fit_transform(x))
        write(out, "impute_constant", frame.fillna(-1.5).to_numpy())
        # Only "ties" and "skewed" selected: the other columns pass through.
        partial = x.copy()
        partial[:, [1, 4]] = StandardScaler().fit_transform(x[:, [1, 4]])
        write(out, "scale_standard_ties_skewed", partial)
        write(out, "scale_standard", StandardScaler().fit_transform(x))
        write(out, "scale_robust", RobustScaler().fit_transform(x))
        write(out, "scale_minmax", MinMaxScaler().fit_transform(x))
        kept = [j for j in range(len(NAMES)) if frame.iloc[:, j].nunique() > 1]
        write(out, "drop_constant", frame.iloc[:, kept].to_numpy())


if __name__ == "__main__":
    main()
