"""Independent pandas reference for the [features] steps (test_features.cpp).

Writes generated rows (sorted by group g, then time t, with NaNs and groups of 1 and 2 rows)
and what pandas computes for the step chain the test configures:
  log1p(y); diff(lag 2) of x; lag 1, 3 of x; rolling(5) mean/std/zscore/min/max of x and y;
  ewm(alpha 0.3, adjust=False) of y; rolling(3) mean of x_diff2; rolling(40) mean/std/min/max
  of x; the keys g, t dropped.
Then a second input, the same keys with runs of 1 to 6 NaNs (at group starts too, a group of
NaNs only), and pandas' result for the ffill chain of the test:
  groupby(g) x.ffill(limit=2); diff(1) of that x; y.ffill() and x_diff1.ffill(); keys dropped.
Text format, per table: the column names, the row count, one row per line; "nan" for NaN.
"""
import sys

import numpy as np
import pandas as pd

rng = np.random.default_rng(8)
sizes = [120, 1, 2, 37, 140]
g = np.repeat(np.arange(len(sizes)) * 3 + 10, sizes)
t = np.concatenate([np.sort(rng.integers(0, 10**6, n)) for n in sizes])
n = len(g)
x = 50 + 10 * rng.standard_normal(n)
y = np.exp(rng.uniform(0, 6, n))
x[rng.choice(n, 6, replace=False)] = np.nan
y[rng.choice(n, 4, replace=False)] = np.nan
inputs = pd.DataFrame({"g": g, "t": t.astype(float), "x": x, "y": y})

df = inputs.copy()
df["y"] = np.log1p(df["y"])
by = df.groupby("g")
out = df[["x", "y"]].copy()
out["x_diff2"] = by["x"].diff(2)
out["x_lag1"] = by["x"].shift(1)
out["x_lag3"] = by["x"].shift(3)
for col in ["x", "y"]:
    roll = by[col].rolling(5)
    mean = roll.mean().reset_index(level=0, drop=True)
    std = roll.std().reset_index(level=0, drop=True)
    out[f"{col}_rolling5_mean"] = mean
    out[f"{col}_rolling5_std"] = std
    out[f"{col}_rolling5_zscore"] = (df[col] - mean) / std
    out[f"{col}_rolling5_min"] = roll.min().reset_index(level=0, drop=True)
    out[f"{col}_rolling5_max"] = roll.max().reset_index(level=0, drop=True)
out["y_ewm0.3"] = by["y"].transform(lambda s: s.ewm(alpha=0.3, adjust=False).mean())
out["x_diff2_rolling3_mean"] = (
    out.assign(g=df["g"]).groupby("g")["x_diff2"].rolling(3).mean().reset_index(level=0, drop=True))
# A window longer than most blocks and ranks of the test, over several aligned runs.
roll40 = by["x"].rolling(40)
for stat in ["mean", "std", "min", "max"]:
    out[f"x_rolling40_{stat}"] = getattr(roll40, stat)().reset_index(level=0, drop=True)



def nan_runs(values, starts):
    """values with NaN runs of 1..6 rows beginning at `starts`."""
    values = values.copy()
    for start in starts:
        values[start:start + rng.integers(1, 7)] = np.nan
    return values


group_starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
gaps = pd.DataFrame({"g": g, "t": t.astype(float),
                     "x": nan_runs(x, np.concatenate([rng.choice(n, 25, replace=False),
                                                      group_starts[:2]])),
                     "y": nan_runs(y, rng.choice(n, 15, replace=False))})
gaps.loc[gaps["g"] == 16, "y"] = np.nan  # the 2-row group: nothing to carry forward
by = gaps.groupby("g")
filled = gaps[["x", "y"]].copy()
filled["x"] = by["x"].ffill(limit=2)
filled["x_diff1"] = filled.assign(g=gaps["g"]).groupby("g")["x"].diff(1)
filled["y"] = by["y"].ffill()
filled["x_diff1"] = filled.assign(g=gaps["g"]).groupby("g")["x_diff1"].ffill()

with open(sys.argv[1], "w") as f:
    for table in (inputs, out, gaps, filled):
        f.write(" ".join(table.columns) + f"\n{len(table)}\n")
        for row in table.itertuples(index=False):
            f.write(" ".join(repr(float(v)) for v in row) + "\n")
