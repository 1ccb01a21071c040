"""[features] through the real binary under mpiexec: grouped windows whose halo spans several
ranks (a window longer than a rank's rows, groups spanning ranks, more ranks than rows),
checked against pandas features scored by scikit-learn, and identical for 1..4 ranks."""
import os
import unittest

import h5py
import numpy as np
import pandas as pd
from sklearn.covariance import EmpiricalCovariance

from hpcad_testlib import HpcadTestCase, temp_dir, write_config

FEATURES = """
[features]
group_by = "node"
order_by = "time"
steps = [
  { op = "diff", columns = ["power"] },
  { op = "rolling", columns = ["cpu", "power"], window = 12, stats = ["mean", "std", "max"] },
  { op = "ewm", columns = ["cpu"], alpha = 0.2 },
  { op = "lag", columns = ["cpu"], lags = [2] },
  { op = "impute" },
]
"""


def pandas_features(df):
    """What FEATURES computes, in pandas: the detector's input columns."""
    by = df.groupby("node")
    out = df[["cpu", "power"]].copy()
    out["power_diff1"] = by["power"].diff(1)
    for col in ("cpu", "power"):
        roll = by[col].rolling(12)
        for stat in ("mean", "std", "max"):
            out[f"{col}_rolling12_{stat}"] = getattr(roll, stat)().reset_index(level=0, drop=True)
    out["cpu_ewm0.2"] = by["cpu"].transform(lambda s: s.ewm(alpha=0.2, adjust=False).mean())
    out["cpu_lag2"] = by["cpu"].shift(2)
    return out.fillna(out.mean())


def telemetry(rows, nodes, seed):
    rng = np.random.default_rng(seed)
    node = np.sort(rng.integers(0, nodes, rows)) * 7 + 3
    df = pd.DataFrame({"time": np.arange(rows) * 10.0, "node": node,
                       "cpu": rng.uniform(0, 100, rows), "power": 200 + 30 * rng.standard_normal(rows)})
    df.loc[rng.choice(rows, max(1, rows // 20), replace=False), "cpu"] = np.nan
    return df


def run_all_ranks(test, directory, df, features=FEATURES):
    path = os.path.join(directory, "telemetry.csv")
    df.to_csv(path, index=False)
    config = write_config(directory, path, label="", extra=features)
    with open(config) as f:
        text = f.read().replace('type = "iforest"', 'type = "mahalanobis"').replace("seed = 42", "")
    with open(config, "w") as f:
        f.write(text)
    scores = []
    for ranks in (1, 2, 3, 4):
        test.run_ok(["run", "--config", config], ranks)
        with h5py.File(os.path.join(directory, "scores.h5")) as f:
            scores.append(f["score"][:])
    for ranks, s in zip((2, 3, 4), scores[1:]):
        test.assertTrue(np.array_equal(s.view(np.uint64), scores[0].view(np.uint64)), f"{ranks} ranks")
    return scores[0], config


class FeaturesTest(HpcadTestCase):
    def test_scores_of_pandas_features_for_one_to_four_ranks(self):
        d = temp_dir(self)
        # 4 ranks hold 10 rows each: the 12-row window and the ewm reach several ranks back.
        df = telemetry(40, 3, 1)
        scores, config = run_all_ranks(self, d, df)
        features = pandas_features(df).to_numpy()
        expected = EmpiricalCovariance().fit(features).mahalanobis(features)
        np.testing.assert_allclose(scores, expected, rtol=1e-7, atol=1e-9)
        r = self.run_ok(["inspect", os.path.join(d, "model.h5")])
        self.assertIn("features        11 (cpu, power, power_diff1, cpu_rolling12_mean", r.stdout)
        self.assertIn("cpu_ewm0.2, cpu_lag2)", r.stdout)
        # Streaming: 3-row blocks, so every window also spans blocks within a rank.
        self.run_ok(["run", "--config", config, "--set", "input.block_rows=3",
                     "--set", "run.memory_per_rank=40MiB"], 3)
        with h5py.File(os.path.join(d, "scores.h5")) as f:
            self.assertTrue(np.array_equal(f["score"][:], scores))
        # The model re-applies the steps to new data.
        self.run_ok(["score", "--config", config, "--model", f"{d}/model.h5"], 3)
        with h5py.File(os.path.join(d, "scores.h5")) as f:
            self.assertTrue(np.array_equal(f["score"][:], scores))

    def test_more_ranks_than_rows(self):
        d = temp_dir(self)
        steps = FEATURES.replace("window = 12", "window = 2")
        run_all_ranks(self, d, telemetry(3, 1, 2).fillna(50.0), steps)

    def test_unsorted_order_by_names_the_row(self):
        d = temp_dir(self)
        df = telemetry(40, 3, 3)
        df.loc[25, "time"] = 0.0
        path = os.path.join(d, "telemetry.csv")
        df.to_csv(path, index=False)
        config = write_config(d, path, label="", extra=FEATURES)
        r = self.run_failing(["run", "--config", config], 3)
        self.assertIn("row 25: diff: order_by = 0 follows 240", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
