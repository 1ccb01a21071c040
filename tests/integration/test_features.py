"""[features] through the real binary under mpiexec: grouped windows whose halo spans several
ranks (a window longer than a rank's rows, groups spanning ranks, more ranks than rows),
checked against pandas features scored by scikit-learn, and identical for 1..4 ranks."""
import os
import subprocess
import unittest

import h5py
import numpy as np
import pandas as pd
from sklearn.covariance import EmpiricalCovariance
from sklearn.metrics import roc_auc_score

from hpcad_testlib import SOURCE_DIR, HpcadTestCase, temp_dir, write_config

KEYS = """
[features]
group_by = "node"
order_by = "time"
"""
FEATURES = KEYS + """steps = [
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


def mahalanobis_config(directory, path, features):
    config = write_config(directory, path, label="", extra=features)
    with open(config) as f:
        text = f.read().replace('type = "iforest"', 'type = "mahalanobis"').replace("seed = 42", "")
    with open(config, "w") as f:
        f.write(text)
    return config


def same_for_one_to_four_ranks(test, directory, config, dataset, *settings):
    """`dataset` of the scores file of `hpcad run` with `settings` (--set), asserted to be
    bitwise the same for 1, 2, 3 and 4 ranks; with its `names` attribute if it has one."""
    args = ["run", "--config", config]
    for setting in settings:
        args += ["--set", setting]
    results = []
    for ranks in (1, 2, 3, 4):
        test.run_ok(args, ranks)
        with h5py.File(os.path.join(directory, "scores.h5")) as f:
            names = [str(n.decode() if isinstance(n, bytes) else n)
                     for n in f[dataset].attrs.get("names", [])]
            results.append(f[dataset][:])
    for ranks, r in zip((2, 3, 4), results[1:]):
        test.assertTrue(np.array_equal(r.view(np.uint64), results[0].view(np.uint64)), f"{ranks} ranks")
    return results[0], names


def run_all_ranks(test, directory, df, features=FEATURES):
    path = os.path.join(directory, "telemetry.csv")
    df.to_csv(path, index=False)
    config = mahalanobis_config(directory, path, features)
    return same_for_one_to_four_ranks(test, directory, config, "score")[0], config


def written_features(test, directory, path, features):
    """/features of `hpcad run` on `path` with `features`, the same bits for 1..4 ranks, as a
    DataFrame named by the file's `names`."""
    config = mahalanobis_config(directory, path, features)
    values, names = same_for_one_to_four_ranks(test, directory, config, "features",
                                                "output.write_features=true")
    return pd.DataFrame(values, columns=names)


def assert_frames_close(test, got, expected):
    test.assertEqual(list(got.columns), list(expected.columns))
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=0)


TEXT_KEY_STEPS = KEYS + """steps = [
  { op = "diff", columns = ["power"] },
  { op = "rolling", columns = ["cpu"], window = 4, stats = ["mean", "std"] },
  { op = "impute", strategy = "ffill", columns = ["cpu"] },
  { op = "impute" },
]
"""


def telemetry_with_text_keys(rows, seed):
    """Node names as text, in no sorted order (a text group_by need only be contiguous), and
    ISO 8601 timestamps: most in UTC ("Z", or none), some the same instant written at +02:00,
    so sorting them as text or ignoring the offset would find them unsorted."""
    rng = np.random.default_rng(seed)
    names = np.array(["node-07", "rack2/node-1", "node-10", "gpu 3", "node-7"])
    node = names[np.sort(rng.integers(0, len(names), rows))]
    start = pd.Timestamp("2024-02-28T23:59:00Z")
    times = start + pd.to_timedelta(np.arange(rows) * 17, unit="s")
    text = [t.tz_convert("Etc/GMT-2").isoformat() if i % 3 == 0 else
            (t.strftime("%Y-%m-%dT%H:%M:%SZ") if i % 3 == 1 else t.strftime("%Y-%m-%d %H:%M:%S"))
            for i, t in enumerate(times)]
    df = pd.DataFrame({"time": text, "node": node, "cpu": rng.uniform(0, 100, rows),
                       "power": 200 + 30 * rng.standard_normal(rows)})
    df.loc[rng.choice(rows, max(1, rows // 10), replace=False), "cpu"] = np.nan
    return df


def pandas_text_key_features(df):
    """TEXT_KEY_STEPS in pandas, grouping by the node text and ordering by parsed times."""
    assert pd.to_datetime(df["time"], utc=True).groupby(df["node"]).is_monotonic_increasing.all()
    by = df.groupby("node")
    out = df[["cpu", "power"]].copy()
    out["power_diff1"] = by["power"].diff()
    roll = by["cpu"].rolling(4)
    out["cpu_rolling4_mean"] = roll.mean().reset_index(level=0, drop=True)
    out["cpu_rolling4_std"] = roll.std().reset_index(level=0, drop=True)
    out["cpu"] = by["cpu"].ffill()
    return out.fillna(out.mean())


class FeaturesTest(HpcadTestCase):
    def test_text_node_ids_and_iso_timestamps_in_csv(self):
        d = temp_dir(self)
        df = telemetry_with_text_keys(60, 6)
        path = os.path.join(d, "telemetry.csv")
        df.to_csv(path, index=False)
        got = written_features(self, d, path, TEXT_KEY_STEPS)
        assert_frames_close(self, got, pandas_text_key_features(df))  # keys not fed on

    def test_text_node_ids_with_text_or_integer_timestamps_in_parquet(self):
        node_dir = os.environ.get("HPCAD_PARQUET_NODE_DIR", "")
        setup = subprocess.run(["sh", os.path.join(SOURCE_DIR, "scripts", "parquet-roundtrip-setup"),
                                node_dir], capture_output=True, text=True)
        if not node_dir or setup.returncode != 0:
            self.skipTest(f"DuckDB for node unavailable (HPCAD_PARQUET_NODE_DIR={node_dir!r}): "
                          f"{setup.stderr.strip()[-300:]}")
        d = temp_dir(self)
        df = telemetry_with_text_keys(60, 8)
        csv = os.path.join(d, "telemetry.csv")
        df.to_csv(csv, index=False)
        expected = pandas_text_key_features(df)
        for time in ("text", "epoch"):
            path = os.path.join(d, f"telemetry_{time}.parquet")
            # 7-row row groups: groups and windows span row groups and ranks.
            subprocess.run(["node", os.path.join(SOURCE_DIR, "tests", "integration",
                                                 "duckdb_csv_to_parquet.js"), csv, path, "7", time],
                           check=True, env=dict(os.environ, NODE_PATH=f"{node_dir}/node_modules"))
            assert_frames_close(self, written_features(self, d, path, TEXT_KEY_STEPS), expected)

    def test_text_order_by_must_be_a_timestamp(self):
        d = temp_dir(self)
        df = telemetry_with_text_keys(30, 7)
        df.loc[12, "time"] = "yesterday"
        path = os.path.join(d, "telemetry.csv")
        df.to_csv(path, index=False)
        config = write_config(d, path, label="", extra=TEXT_KEY_STEPS)
        r = self.run_failing(["run", "--config", config], 2)
        self.assertIn("row 12: diff: order_by holds text that is neither a number nor an ISO 8601 "
                      "timestamp", r.stderr)
        df = telemetry_with_text_keys(30, 7)
        df.loc[20, "time"] = "2024-02-28T23:00:00+02:00"  # 21:00Z, before the row above
        df.to_csv(path, index=False)
        r = self.run_failing(["run", "--config", config], 3)
        self.assertIn("row 20: diff: order_by = 1709154000 follows", r.stderr)

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

    def test_forward_fill_within_nodes_across_ranks(self):
        d = temp_dir(self)
        # Runs of up to 5 missing cpu samples, with 10-row rank shares at 4 ranks: a gap and
        # the value carried over it fall on different ranks.
        df = telemetry(40, 3, 4)
        rng = np.random.default_rng(5)
        for start in rng.choice(40, 6, replace=False):
            df.loc[start:start + rng.integers(1, 6), "cpu"] = np.nan
        path = os.path.join(d, "telemetry.csv")
        df.to_csv(path, index=False)
        steps = KEYS + """steps = [
  { op = "impute", strategy = "ffill", columns = ["cpu"], limit = 3 },
  { op = "diff", columns = ["cpu"] },
  { op = "impute", strategy = "ffill" },
  { op = "impute", strategy = "mean" },
]
"""
        got = written_features(self, d, path, steps)
        by = df.groupby("node")
        out = df[["cpu", "power"]].copy()
        out["cpu"] = by["cpu"].ffill(limit=3)
        out["cpu_diff1"] = out.assign(node=df["node"]).groupby("node")["cpu"].diff()
        out = out.assign(node=df["node"]).groupby("node").ffill()
        self.assertTrue(out.isna().any().any())  # the mean fills what ffill leaves
        assert_frames_close(self, got, out.fillna(out.mean()))
        # The model (no fitted values for ffill, the mean's) re-applies the steps.
        self.run_ok(["score", "--config", os.path.join(d, "job.toml"), "--model",
                     os.path.join(d, "model.h5"), "--set", "output.write_features=true"], 3)
        with h5py.File(os.path.join(d, "scores.h5")) as f:
            self.assertTrue(np.array_equal(f["features"][:], got.to_numpy()))

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


class TelemetrySampleTest(HpcadTestCase):
    """The shipped configs/telemetry.toml on data/samples/telemetry.h5: its feature steps must
    find the injected anomalies better than the raw columns do (docs/quality.md), judged by
    scikit-learn's ROC-AUC on the scores file and the sample's labels."""

    def auc(self, directory, *overrides):
        config = os.path.join(SOURCE_DIR, "configs", "telemetry.toml")
        outputs = [f"output.path={directory}/scores.h5", f"output.model={directory}/model.h5",
                   f"output.report={directory}/report.json", "run.log_level=quiet"]
        args = ["run", "--config", config]
        for setting in outputs + list(overrides):
            args += ["--set", setting]
        self.run_ok(args, 2)
        with h5py.File(os.path.join(directory, "scores.h5")) as f:
            scores = f["score"][:]
        with h5py.File(os.path.join(SOURCE_DIR, "data", "samples", "telemetry.h5")) as f:
            labels = f["label"][:]
        return roc_auc_score(labels, scores)

    def test_features_beat_raw_columns(self):
        d = temp_dir(self)
        with_features = self.auc(d)
        raw = self.auc(d, "features.steps=[]", "output.write_features=false")
        print(f"telemetry ROC-AUC: {with_features:.4f} with features, {raw:.4f} raw")
        self.assertGreater(with_features, raw + 0.03)


if __name__ == "__main__":
    unittest.main(verbosity=2)
