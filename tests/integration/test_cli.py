"""End-to-end tests of the hpcad CLI, checked with independent tools (h5py, numpy,
scikit-learn from Debian's python3 packages)."""
import glob
import hashlib
import json
import math
import os
import shutil
import unittest

import h5py
import numpy as np
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score, roc_auc_score

from hpcad_testlib import HpcadTestCase, SHARED, SOURCE_DIR, hpcad, temp_dir, write_config

DEMO = os.path.join(SOURCE_DIR, "data", "samples", "demo.h5")


def read_scores(path):
    with h5py.File(path, "r") as f:
        return f["score"][:], f["is_anomaly"][:], dict(f.attrs)


def read_report(directory):
    with open(os.path.join(directory, "report.json")) as f:
        return json.load(f)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def read_model(path):
    with h5py.File(path, "r") as f:
        state = {k: f["state"][k][:] for k in f["state"]}
        params = dict(f["params"].attrs)
        return state, params, dict(f.attrs)


class RunTest(HpcadTestCase):
    def test_rank_count_invariance_of_model_and_scores(self):
        d = temp_dir(self)
        config = write_config(d, DEMO)
        results = {}
        for ranks in (1, 2, 3, 4):
            out = os.path.join(d, f"r{ranks}")
            self.run_ok(["run", "--config", config, "--set", f"output.path={out}-scores.h5",
                         "--set", f"output.model={out}-model.h5", "--set", f"output.report={out}-report.json"], ranks)
            results[ranks] = (read_scores(f"{out}-scores.h5"), read_model(f"{out}-model.h5"))
        (s1, f1, a1), (state1, params1, _) = results[1]
        for ranks in (2, 3, 4):
            (s, f, a), (state, params, attrs) = results[ranks]
            self.assertTrue(np.array_equal(s.view(np.uint64), s1.view(np.uint64)), f"scores differ with {ranks} ranks")
            self.assertTrue(np.array_equal(f, f1))
            self.assertEqual(sorted(state), sorted(state1))
            for k in state1:
                self.assertTrue(np.array_equal(state[k].view(np.uint8), state1[k].view(np.uint8)), f"{k} differs")
            self.assertEqual(params, params1)
            self.assertEqual(attrs["ranks"], ranks)
            self.assertEqual(a["ranks"], ranks)

    def test_threshold_metrics_and_attributes_match_independent_references(self):
        d = temp_dir(self)
        config = write_config(d, DEMO, contamination=0.05)
        self.run_ok(["run", "--config", config], 3)
        scores, flags, attrs = read_scores(os.path.join(d, "scores.h5"))
        with h5py.File(DEMO, "r") as f:
            y = f["y"][:]
            n = f["X"].shape[0]
        self.assertEqual(len(scores), n)
        expected = np.quantile(scores, 1 - 0.05)  # numpy linear, as sklearn's offset_
        self.assertAlmostEqual(attrs["threshold"], expected, delta=1e-12)
        np.testing.assert_array_equal(flags, (scores > attrs["threshold"]).astype(np.int8))
        self.assertAlmostEqual(attrs["achieved_fraction"], flags.mean(), delta=1e-15)
        report = read_report(d)
        m = report["metrics"]
        self.assertAlmostEqual(m["roc_auc"], roc_auc_score(y, scores), delta=1e-9)
        self.assertAlmostEqual(m["pr_auc"], average_precision_score(y, scores), delta=1e-9)
        self.assertAlmostEqual(m["precision"], precision_score(y, flags), delta=1e-12)
        self.assertAlmostEqual(m["recall"], recall_score(y, flags), delta=1e-12)
        self.assertAlmostEqual(m["f1"], f1_score(y, flags), delta=1e-12)
        self.assertEqual(report["rows"], n)
        self.assertEqual(report["anomalies"], int(flags.sum()))
        self.assertEqual(report["ranks"], 3)
        for phase in ("read", "fit", "score", "threshold", "write"):
            p = report["phases"][phase]
            self.assertLessEqual(p["min"], p["mean"])
            self.assertLessEqual(p["mean"], p["max"])
        # Provenance: the scores name the exact model file that produced them.
        model_bytes = read_bytes(os.path.join(d, "model.h5"))

        self.assertEqual(attrs["model_sha256"], hashlib.sha256(model_bytes).hexdigest())
        for key in ("config", "input_path", "hpcad_version", "created", "contamination"):
            self.assertIn(key, attrs)
        self.assertEqual(attrs["input_path"], DEMO)

    def test_metrics_match_sklearn_on_real_data_with_fixed_threshold(self):
        d = temp_dir(self)
        data = os.path.join(SHARED, "datasets", "adbench", "cardio.h5")
        config = write_config(d, data, extra="")
        self.run_ok(["run", "--config", config, "--set", "threshold.contamination=0.1"], 2)
        scores, flags, _ = read_scores(os.path.join(d, "scores.h5"))
        with h5py.File(data, "r") as f:
            y = f["y"][:]
        report = read_report(d)["metrics"]
        self.assertAlmostEqual(report["roc_auc"], roc_auc_score(y, scores), delta=1e-9)
        self.assertAlmostEqual(report["pr_auc"], average_precision_score(y, scores), delta=1e-9)

    def test_train_then_score_equals_run(self):
        d = temp_dir(self)
        config = write_config(d, DEMO)
        self.run_ok(["run", "--config", config, "--set", f"output.path={d}/run.h5"], 2)
        self.run_ok(["train", "--config", config, "--set", f"output.model={d}/trained.h5"], 3)
        self.assertFalse(os.path.exists(os.path.join(d, "scores.h5")))  # train writes only the model
        self.run_ok(["score", "--config", config, "--model", f"{d}/trained.h5", "--set", f"output.path={d}/scored.h5"], 4)
        a, fa, _ = read_scores(f"{d}/run.h5")
        b, fb, attrs = read_scores(f"{d}/scored.h5")
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(fa, fb)

        self.assertEqual(attrs["model_sha256"], hashlib.sha256(read_bytes(f"{d}/trained.h5")).hexdigest())

    def test_more_ranks_than_rows(self):
        d = temp_dir(self)
        data = os.path.join(d, "tiny.h5")
        with h5py.File(data, "w") as f:
            f["X"] = np.array([[0.0, 1.0], [5.0, 5.0], [0.1, 0.9]])
            f["y"] = np.array([0, 1, 0], dtype=np.int8)
        config = write_config(d, data, contamination=0.3)
        outs = []
        for ranks in (1, 4):
            self.run_ok(["run", "--config", config, "--set", f"output.path={d}/s{ranks}.h5"], ranks)
            outs.append(read_scores(f"{d}/s{ranks}.h5")[0])
        np.testing.assert_array_equal(outs[0], outs[1])
        self.assertEqual(int(np.argmax(outs[0])), 1)

    def test_generate_is_rank_count_invariant(self):
        d = temp_dir(self)
        for ranks in (1, 3):
            self.run_ok(["generate", "--rows", "1000", "--features", "5", "--anomaly-fraction", "0.1",
                         "--seed", "3", "--output", f"{d}/g{ranks}.h5"], ranks)
        with h5py.File(f"{d}/g1.h5") as a, h5py.File(f"{d}/g3.h5") as b:
            np.testing.assert_array_equal(a["X"][:], b["X"][:])
            np.testing.assert_array_equal(a["y"][:], b["y"][:])
            self.assertEqual(a["X"].shape, (1000, 5))
            self.assertTrue(0.05 < a["y"][:].mean() < 0.15)

    def test_inspect_and_help(self):
        d = temp_dir(self)
        config = write_config(d, DEMO)
        self.run_ok(["run", "--config", config])
        out = self.run_ok(["inspect", f"{d}/model.h5"]).stdout
        self.assertIn("detector        iforest", out)
        self.assertIn("n_trees       100", out)
        out = self.run_ok(["inspect", f"{d}/scores.h5"]).stdout
        self.assertIn("anomalies", out)
        for sub in ("run", "train", "score", "generate", "inspect"):
            r = hpcad([sub, "--help"])
            self.assertEqual(r.returncode, 0)
            self.assertIn("Usage", r.stdout + r.stderr)
        self.assertIn("--set", hpcad(["run", "--help"]).stdout)

    def test_one_row_scores_as_sklearn(self):
        """One training row: scikit-learn defines every score as 0.5 (-score_samples), where
        c(1) = 0 makes the usual formula 0 / 0; so does hpcad, for the row itself, for the
        threshold, and when the one-row model scores other data."""
        from sklearn.ensemble import IsolationForest
        d = temp_dir(self)
        one = os.path.join(d, "one.h5")
        row = np.array([[1.0, -2.0, 3.5]])
        with h5py.File(one, "w") as f:
            f["X"] = row
            f["y"] = np.array([0], dtype=np.int8)
        config = write_config(d, one, contamination=0.1)
        other = np.random.default_rng(1).normal(size=(50, 3))
        reference = -IsolationForest(random_state=0).fit(row).score_samples(np.vstack([row, other]))
        for ranks in (1, 2):  # with 2 ranks, one has no rows
            self.run_ok(["run", "--config", config, "--set", f"output.path={d}/s{ranks}.h5"], ranks)
            score, flags, attrs = read_scores(f"{d}/s{ranks}.h5")
            np.testing.assert_array_equal(score, reference[:1])
            self.assertEqual(attrs["threshold"], 0.5)
            self.assertEqual(flags.tolist(), [0])  # sklearn's predict() calls it an inlier
        many = os.path.join(d, "many.h5")
        with h5py.File(many, "w") as f:
            f["X"] = other
        self.run_ok(["score", "--config", config, "--model", f"{d}/model.h5", "--set", f"input.path={many}",
                     "--set", "input.label=", "--set", f"output.path={d}/many-scores.h5"], 2)
        np.testing.assert_array_equal(read_scores(f"{d}/many-scores.h5")[0], reference[1:])


class BadInputTest(unittest.TestCase):
    """Every documented bad input: a clear message, a non-zero exit, nothing at the
    output paths (and no temporary files left), the input untouched."""

    def setUp(self):
        self.d = temp_dir(self)
        self.data = os.path.join(self.d, "in.h5")
        shutil.copy(DEMO, self.data)
        self.config = write_config(self.d, self.data)

    def expect_failure(self, args, fragments, ranks=2):
        before = read_bytes(self.data)
        r = hpcad(args, ranks)
        self.assertNotEqual(r.returncode, 0, f"succeeded: {args}")
        for fragment in fragments:
            self.assertIn(fragment, r.stderr, f"message lacks {fragment!r}:\n{r.stderr}")
        # One report, not one per rank.
        self.assertLessEqual(r.stderr.count("hpcad: error"), 1, r.stderr)
        for name in ("scores.h5", "model.h5", "report.json"):
            self.assertFalse(os.path.exists(os.path.join(self.d, name)), f"{name} left behind")
        self.assertEqual(glob.glob(os.path.join(self.d, "*.tmp-*")), [])
        self.assertEqual(read_bytes(self.data), before, "input modified")
        return r

    def run_args(self, *sets):
        args = ["run", "--config", self.config]
        for s in sets:
            args += ["--set", s]
        return args

    def test_missing_input_file(self):
        self.expect_failure(self.run_args(f"input.path={self.d}/nope.h5"), ["nope.h5", "cannot open"])

    def test_input_not_hdf5(self):
        bad = os.path.join(self.d, "bad.h5")
        with open(bad, "w") as f:
            f.write("not hdf5")
        self.expect_failure(self.run_args(f"input.path={bad}"), ["bad.h5", "not HDF5"])

    def test_missing_dataset(self):
        self.expect_failure(self.run_args("input.dataset=Z"), ["no dataset 'Z'", "in.h5"])

    def test_wrong_rank_and_dtype(self):
        with h5py.File(self.data, "a") as f:
            f["one_d"] = np.zeros(10)
            f["text"] = np.array([b"a", b"b"])
        self.expect_failure(self.run_args("input.dataset=one_d"), ["dataset 'one_d' must be 2-D"])
        self.expect_failure(self.run_args("input.dataset=text"), ["dataset 'text' must hold integers or floats"])

    def test_nan_on_one_rank_only_names_the_row(self):
        with h5py.File(self.data, "a") as f:
            x = f["X"]
            x[3990, 2] = np.nan  # in the last rank's slab
        r = self.expect_failure(self.run_args(), ["row 3990, column 2", "nan", "nan_policy"], ranks=3)
        self.assertIn("rank 2", r.stderr)

    def test_bad_labels(self):
        with h5py.File(self.data, "a") as f:
            f["y"][5] = 7
        self.expect_failure(self.run_args(), ["row 5: label is 7"])

    def test_unwritable_output_directory(self):
        blocker = os.path.join(self.d, "afile")
        with open(blocker, "w") as f:
            f.write("x")
        self.expect_failure(self.run_args(f"output.path={blocker}/sub/scores.h5"), ["output.path", "cannot create directory"])

    def test_output_equal_to_input(self):
        self.expect_failure(self.run_args(f"output.path={self.data}"), ["is the input file"])

    def test_bad_config(self):
        with open(self.config, "a") as f:
            f.write("bogus = 1\n")
        self.expect_failure(["run", "--config", self.config], ["job.toml:", "unknown key 'run.bogus'"])

    def test_bad_override(self):
        self.expect_failure(self.run_args("detector.n_trees=zero"), ["--set detector.n_trees", "not an integer"])

    def test_train_without_model_path(self):
        self.expect_failure(["train", "--config", self.config, "--set", "output.model="],
                            ["output.model is empty"])

    def test_missing_config_file(self):
        self.expect_failure(["run", "--config", f"{self.d}/none.toml"], ["none.toml"])

    def test_bad_cli(self):
        self.expect_failure(["frobnicate"], ["frobnicate"])
        self.expect_failure(["run"], ["--config"])
        self.expect_failure(["generate", "--rows", "-5", "--features", "2", "--output", f"{self.d}/g.h5"], ["--rows"])

    def test_bad_model_files(self):
        self.expect_failure(["score", "--config", self.config, "--model", f"{self.d}/none.h5"], ["none.h5"])
        junk = os.path.join(self.d, "junk.h5")
        with open(junk, "wb") as f:
            f.write(b"\x89HDF junk" * 10)
        self.expect_failure(["score", "--config", self.config, "--model", junk], ["junk.h5", "not a readable HDF5"])
        # A scores file is not a model.
        other = temp_dir(self)
        cfg = write_config(other, self.data)
        self.assertEqual(hpcad(["run", "--config", cfg]).returncode, 0)
        self.expect_failure(["score", "--config", self.config, "--model", f"{other}/scores.h5"],
                            ["not an hpcad model file"])
        # Feature count mismatch.
        narrow = os.path.join(other, "narrow.h5")
        with h5py.File(narrow, "w") as f:
            f["X"] = np.random.default_rng(0).normal(size=(100, 3))
        self.assertEqual(hpcad(["train", "--config", cfg, "--set", f"input.path={narrow}", "--set", "input.label=",
                                "--set", f"output.model={other}/narrow-model.h5"]).returncode, 0)
        self.expect_failure(["score", "--config", self.config, "--model", f"{other}/narrow-model.h5"],
                            ["expects 3 features", "has 8"])

    def test_virtual_dataset_is_refused(self):
        # h5py writes a VDS without checking its source: a missing source reads as zeros.
        vds = os.path.join(self.d, "vds.h5")
        layout = h5py.VirtualLayout(shape=(100, 3), dtype="f8")
        layout[:] = h5py.VirtualSource(os.path.join(self.d, "gone.h5"), "X", shape=(100, 3))
        with h5py.File(vds, "w") as f:
            f.create_virtual_dataset("X", layout, fillvalue=0)
        self.expect_failure(self.run_args(f"input.path={vds}", "input.label="),
                            ["vds.h5", "dataset 'X' is an HDF5 virtual dataset"])

    def test_all_nan_column_under_imputation_is_one_message_naming_it(self):
        data = os.path.join(self.d, "nan.h5")
        x = np.random.default_rng(0).normal(size=(300, 3))
        x[:, 1] = np.nan
        with h5py.File(data, "w") as f:
            f["X"] = x
            f["X"].attrs["feature_names"] = ["a", "b", "c"]
        r = self.expect_failure(self.run_args(f"input.path={data}", "input.label=", "input.nan_policy=impute"),
                                ["impute: column 'b' has no finite value"], ranks=3)
        self.assertEqual(r.stderr.count("no finite value"), 1, r.stderr)

    def test_huge_declared_shape_is_a_memory_error_not_bad_alloc(self):
        huge = os.path.join(self.d, "huge.h5")
        with h5py.File(huge, "w") as f:  # 2^50 rows in a few KB: chunks never written
            f.create_dataset("X", shape=(2**50, 3), dtype="f8", chunks=(1024, 3))
        r = self.expect_failure(self.run_args(f"input.path={huge}", "input.label="),
                                ["memory_per_rank", "rows on this rank"])
        self.assertNotIn("bad_alloc", r.stderr)

    def test_model_path_is_a_directory(self):
        self.expect_failure(["score", "--config", self.config, "--model", self.d], ["is a directory"])

    def test_crafted_model_files_are_invalid(self):
        """Each crafted model file: `inspect` says invalid (no summary) and `score` refuses it
        with the same reason, on 2 ranks, without a crash or a hang."""
        other = temp_dir(self)
        model = os.path.join(other, "model.h5")
        self.assertEqual(hpcad(["train", "--config", self.config, "--set", "detector.n_trees=5",
                                "--set", f"output.model={model}"]).returncode, 0)

        def edit(name, change, downgrade=True):
            path = os.path.join(other, f"{name}.h5")
            shutil.copy(model, path)
            with h5py.File(path, "a") as f:
                if downgrade:  # a version 2 file has no checksum: validation alone must refuse it
                    f.attrs["format_version"] = np.int64(2)
                    del f.attrs["content_sha256"]
                change(f)
            return path

        def set_state(array, index, value):
            def change(f):
                values = f["state"][array][...]
                values[index] = value
                del f["state"][array]
                f["state"][array] = values
            return change

        def huge(f):
            del f["state/node_value"]
            f.create_dataset("state/node_value", shape=(2**60,), dtype="f8", chunks=(1024,))

        cases = {
            "left-int64-max": (set_state("node_left", 0, 2**63 - 1), "child index out of range"),
            "feature-2-32": (set_state("node_feature", 0, 2**32), "feature or child index out of range"),
            "offsets": (set_state("tree_offsets", 1, 10**12), "offsets"),
            "nan-value": (set_state("node_value", 0, np.nan), "non-finite value"),
            "huge-array": (huge, "declares 1152921504606846976 values"),
        }
        for name, (change, reason) in cases.items():
            with self.subTest(name):
                path = edit(name, change)
                r = hpcad(["inspect", path])
                self.assertNotEqual(r.returncode, 0, r.stdout)
                self.assertIn("invalid:", r.stderr)
                self.assertIn(reason, r.stderr)
                self.assertNotIn("detector", r.stdout)
                self.expect_failure(["score", "--config", self.config, "--model", path], [f"{name}.h5", reason])
        # A flipped bit in a threshold leaves a valid tree: only the checksum can tell.
        flipped = edit("flipped", lambda f: None, downgrade=False)
        data = bytearray(read_bytes(flipped))
        with h5py.File(model, "r") as f:
            threshold = f["state/node_value"][0].tobytes()
        self.assertEqual(data.count(threshold), 1)
        data[data.index(threshold)] ^= 1
        with open(flipped, "wb") as f:
            f.write(data)
        r = hpcad(["inspect", flipped])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("invalid:", r.stderr)
        self.assertIn("content checksum mismatch", r.stderr)
        self.expect_failure(["score", "--config", self.config, "--model", flipped], ["content checksum mismatch"])



class WriteFeaturesTest(HpcadTestCase):
    """output.write_features: the detector's input, as computed, in the scores file."""

    def test_features_are_the_imputed_input_in_row_order_for_1_and_3_ranks(self):
        d = temp_dir(self)
        rng = np.random.default_rng(8)
        x = rng.normal(size=(517, 3)) * [1e6, 1.0, 1e-6]
        x[rng.random(x.shape) < 0.1] = np.nan
        csv = os.path.join(d, "table.csv")
        with open(csv, "w") as f:
            f.write("load,temp,tiny,y\n")
            for i, row in enumerate(x):
                f.write(",".join("" if np.isnan(v) else repr(float(v)) for v in row) + f",{i % 2}\n")
        config = write_config(d, csv, input_extra='nan_policy = "impute"')
        # The fill value is the correctly rounded mean (math.fsum is exactly rounded too).
        expected = x.copy()
        for j in range(3):
            finite = x[~np.isnan(x[:, j]), j]
            expected[np.isnan(x[:, j]), j] = math.fsum(finite) / len(finite)
        plain = os.path.join(d, "plain.h5")
        self.run_ok(["run", "--config", config, "--set", f"output.path={plain}"], ranks=2)
        for ranks in (1, 3):
            with self.subTest(ranks=ranks):
                out = os.path.join(d, f"features{ranks}.h5")
                self.run_ok(["run", "--config", config, "--set", f"output.path={out}",
                             "--set", "output.write_features=true"], ranks=ranks)
                with h5py.File(out, "r") as f, h5py.File(plain, "r") as p:
                    self.assertEqual(f["features"].dtype, np.float64)
                    self.assertEqual([str(n) for n in f["features"].attrs["names"]], ["load", "temp", "tiny"])
                    np.testing.assert_array_equal(f["features"][...], expected)
                    np.testing.assert_array_equal(f["score"][...], p["score"][...])
                    self.assertNotIn("features", p)
        r = self.run_ok(["inspect", os.path.join(d, "model.h5")])
        self.assertIn("features        3 (load, temp, tiny)", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
