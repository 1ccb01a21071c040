"""Detectors beyond the isolation forest, end to end against scikit-learn (Debian's
python3-sklearn): per-row scores on real data, bitwise identity across rank counts and
between cached and streamed input, and ROC-AUC parity on the 24 ADBench sets with
REFERENCE.csv (configured as its header says)."""
import csv
import json
import os
import unittest

import h5py
import numpy as np
from sklearn.covariance import EmpiricalCovariance, ShrunkCovariance
from sklearn.decomposition import PCA
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.preprocessing import StandardScaler

from hpcad_testlib import SHARED, HpcadTestCase, temp_dir, write_config

ADBENCH = os.path.join(SHARED, "datasets", "adbench")


def reference_auc(detector):
    with open(os.path.join(ADBENCH, "REFERENCE.csv")) as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {r["dataset"]: float(r["roc_auc"]) for r in rows if r["detector"] == detector}


def read_scores(path):
    with h5py.File(path, "r") as f:
        return f["score"][:]


def detector_config(directory, data, detector, extra_detector=""):
    config = write_config(directory, data, label="y")
    with open(config) as f:
        text = f.read().replace('type = "iforest"', f'type = "{detector}"\n{extra_detector}')
    with open(config, "w") as f:
        f.write(text)
    return config


def pca_config(directory, data, extra_detector=""):
    return detector_config(directory, data, "pca", extra_detector)


class PcaTest(HpcadTestCase):
    def test_scores_match_scikit_learn_and_do_not_depend_on_ranks_or_streaming(self):
        d = temp_dir(self)
        data = os.path.join(ADBENCH, "cardio.h5")
        with h5py.File(data) as f:
            x = f["X"][:]
        z = StandardScaler().fit_transform(x)
        pca = PCA(n_components=x.shape[1] // 2).fit(z)
        expected = ((z - pca.inverse_transform(pca.transform(z))) ** 2).sum(axis=1)
        config = pca_config(d, data)
        runs = {}
        for ranks in (1, 2, 3, 4):
            out = os.path.join(d, f"s{ranks}.h5")
            self.run_ok(["run", "--config", config, "--set", f"output.path={out}",
                         "--set", "input.block_rows=97"], ranks)
            runs[ranks] = read_scores(out)
        np.testing.assert_allclose(runs[1], expected, rtol=1e-9, atol=1e-12)
        for ranks, scores in runs.items():
            self.assertTrue(np.array_equal(scores.view(np.uint64), runs[1].view(np.uint64)), ranks)

    def test_streamed_input_gives_the_cached_model_and_scores(self):
        d = temp_dir(self)
        data = os.path.join(d, "gen.h5")
        self.run_ok(["generate", "--rows", "300000", "--features", "8", "--seed", "3", "-o", data], 2)
        config = pca_config(d, data)
        scores = {}
        for memory in ("auto", "36MiB"):  # 36 MiB: 7 MiB of rows per rank do not fit the cache
            out = os.path.join(d, f"{memory}.h5")
            self.run_ok(["run", "--config", config, "--set", f"output.path={out}",
                         "--set", f'run.memory_per_rank="{memory}"', "--set", "input.block_rows=8192"], 3)
            with open(os.path.join(d, "report.json")) as f:
                modes = json.load(f)["memory"]["rank_modes"]
            self.assertEqual(modes, ["memory"] * 3 if memory == "auto" else ["streamed"] * 3)
            scores[memory] = read_scores(out)
        self.assertTrue(np.array_equal(scores["auto"].view(np.uint64), scores["36MiB"].view(np.uint64)))

    def test_explained_variance_and_bad_component_count(self):
        d = temp_dir(self)
        data = os.path.join(ADBENCH, "thyroid.h5")
        with h5py.File(data) as f:
            x = f["X"][:]
        z = StandardScaler().fit_transform(x)
        pca = PCA(n_components=0.9, svd_solver="full").fit(z)
        expected = ((z - pca.inverse_transform(pca.transform(z))) ** 2).sum(axis=1)
        config = pca_config(d, data, "explained_variance = 0.9")
        self.run_ok(["run", "--config", config], 2)
        np.testing.assert_allclose(read_scores(os.path.join(d, "scores.h5")), expected, rtol=1e-8, atol=1e-10)
        r = self.run_failing(["run", "--config", config, "--set", "detector.n_components=7"], 2)
        self.assertIn("detector.n_components = 7: the input has only 6 features", r.stderr)

    def test_roc_auc_parity_on_the_24_adbench_sets(self):
        parity(self, "pca")


def parity(test, detector, seeds=(42,), exceptions=None):
    """ROC-AUC on each ADBench set (mean over `seeds`) minus REFERENCE.csv's; asserts the
    issue's bar: no set more than 0.05 below (or the documented `exceptions` bound), the mean
    no more than 0.02 below."""
    reference = reference_auc(detector)
    test.assertEqual(len(reference), 24)
    d = temp_dir(test)
    diffs = {}
    for name in sorted(reference):
        config = detector_config(d, os.path.join(ADBENCH, f"{name}.h5"), detector)
        aucs = []
        for seed in seeds:
            test.run_ok(["run", "--config", config, "--set", "output.model=", "--set", f"detector.seed={seed}"], 2)
            with open(os.path.join(d, "report.json")) as f:
                aucs.append(json.load(f)["metrics"]["roc_auc"])
        diffs[name] = sum(aucs) / len(aucs) - reference[name]
    for name, diff in diffs.items():
        print(f"{detector} {name}: hpcad - sklearn = {diff:+.4f}")
    print(f"{detector} mean difference {sum(diffs.values()) / len(diffs):+.4f}")
    for name, diff in diffs.items():
        test.assertGreater(diff, (exceptions or {}).get(name, -0.05), name)
    test.assertGreater(sum(diffs.values()) / len(diffs), -0.02)


class MahalanobisTest(HpcadTestCase):
    def test_scores_match_scikit_learn_for_any_rank_count(self):
        d = temp_dir(self)
        # shuttle has near-collinear columns; satellite is well conditioned.
        for name, shrinkage in (("satellite", 0.0), ("cardio", 0.0), ("cardio", 0.3)):
            data = os.path.join(ADBENCH, f"{name}.h5")
            with h5py.File(data) as f:
                x = f["X"][:]
            model = ShrunkCovariance(shrinkage=shrinkage) if shrinkage else EmpiricalCovariance()
            expected = model.fit(x).mahalanobis(x)
            config = detector_config(d, data, "mahalanobis", f"shrinkage = {shrinkage}")
            first = None
            for ranks in (1, 3):
                self.run_ok(["run", "--config", config], ranks)
                scores = read_scores(os.path.join(d, "scores.h5"))
                np.testing.assert_allclose(scores, expected, rtol=1e-7, atol=1e-9, err_msg=name)
                first = scores if first is None else first
                self.assertTrue(np.array_equal(scores.view(np.uint64), first.view(np.uint64)))


def neighbor_references(z, k):
    """scikit-learn's exact scores of the training rows (each row not its own neighbour):
    the k-th and mean neighbour distance, and the LOF. Tree searches sum the squared
    differences directly, as hpcad does."""
    distances, _ = NearestNeighbors(n_neighbors=k, algorithm="kd_tree").fit(z).kneighbors()
    lof = LocalOutlierFactor(n_neighbors=k, algorithm="kd_tree").fit(z)
    return {"largest": distances[:, -1], "mean": distances.mean(axis=1), "lof": -lof.negative_outlier_factor_}


def write_table(path, x, y):
    with h5py.File(path, "w") as f:
        f["X"] = x
        f["y"] = y.astype(np.int8)


class NeighborsTest(HpcadTestCase):
    def run_scores(self, d, config, ranks, *settings):
        out = os.path.join(d, "scores.h5")
        args = ["run", "--config", config, "--set", f"output.path={out}", "--set", "input.block_rows=97"]
        for setting in settings:
            args += ["--set", setting]
        self.run_ok(args, ranks)
        return read_scores(out)

    def test_exact_and_full_sample_scores_match_scikit_learn_for_any_rank_count(self):
        d = temp_dir(self)
        generated = os.path.join(d, "gen.h5")
        self.run_ok(["generate", "--rows", "1500", "--features", "5", "--seed", "7", "-o", generated], 1)
        for data, k in ((generated, 7), (os.path.join(ADBENCH, "cardio.h5"), 20)):
            with h5py.File(data) as f:
                expected = neighbor_references(StandardScaler().fit_transform(f["X"][:]), k)
            for detector, method in (("knn", "largest"), ("knn", "mean"), ("lof", "lof")):
                extra = f"n_neighbors = {k}" + (f'\nmethod = "{method}"' if detector == "knn" else "")
                config = detector_config(d, data, detector, extra)
                first = None
                for mode in ("exact", "sample"):
                    for ranks in (1, 2, 3, 4) if mode == "exact" else (1, 3):
                        scores = self.run_scores(d, config, ranks, f'detector.mode="{mode}"')
                        what = f"{data} {method} {mode} {ranks} ranks"
                        np.testing.assert_allclose(scores, expected[method], rtol=1e-9, atol=1e-12, err_msg=what)
                        first = scores if first is None else first
                        self.assertTrue(np.array_equal(scores.view(np.uint64), first.view(np.uint64)), what)

    def test_sample_mode_scores_rows_outside_the_sample_as_novelties(self):
        """With 400 of cardio's 1831 rows as reference: the reference rows score as
        scikit-learn's training rows of a fit on them, the others as its score_samples, and
        `hpcad score` with the model gives the same scores."""
        d = temp_dir(self)
        data = os.path.join(ADBENCH, "cardio.h5")
        with h5py.File(data) as f:
            z = StandardScaler().fit_transform(f["X"][:])
        config = detector_config(d, data, "lof", "sample_size = 400")
        scores = self.run_scores(d, config, 2)
        with h5py.File(os.path.join(d, "model.h5")) as f:
            rows = f["state/reference_rows"][:]
        self.assertEqual(len(rows), 400)
        lof = LocalOutlierFactor(n_neighbors=20, algorithm="kd_tree", novelty=True).fit(z[rows])
        expected = -lof.score_samples(z)
        expected[rows] = -lof.negative_outlier_factor_
        np.testing.assert_allclose(scores, expected, rtol=1e-9, atol=1e-12)
        out = os.path.join(d, "rescored.h5")
        self.run_ok(["score", "--config", config, "--model", os.path.join(d, "model.h5"),
                     "--set", f"output.path={out}"], 3)
        self.assertTrue(np.array_equal(read_scores(out).view(np.uint64), scores.view(np.uint64)))

    def test_more_ranks_than_rows_and_too_few_rows(self):
        d = temp_dir(self)
        data = os.path.join(d, "three.h5")
        x = np.array([[0.0, 1.0], [2.0, 0.5], [7.0, -3.0]])
        write_table(data, x, np.array([0, 0, 1]))
        expected = neighbor_references(StandardScaler().fit_transform(x), 2)
        for detector in ("knn", "lof"):
            config = detector_config(d, data, detector, "n_neighbors = 2")
            for mode in ("exact", "sample"):
                scores = self.run_scores(d, config, 4, f'detector.mode="{mode}"')
                np.testing.assert_allclose(scores, expected["largest" if detector == "knn" else "lof"], rtol=1e-9)
            r = self.run_failing(["run", "--config", config, "--set", "detector.n_neighbors=3"], 2)
            self.assertIn("detector.n_neighbors = 3: must be less than the 3 rows", r.stderr)

    def test_streamed_input_gives_the_cached_model_and_scores(self):
        d = temp_dir(self)
        data = os.path.join(d, "gen.h5")
        self.run_ok(["generate", "--rows", "300000", "--features", "8", "--seed", "3", "-o", data], 2)
        config = detector_config(d, data, "lof", "sample_size = 300")
        runs = {}
        for memory in ("auto", "36MiB"):  # 36 MiB: 7 MiB of rows per rank do not fit the cache
            scores = self.run_scores(d, config, 3, f'run.memory_per_rank="{memory}"', "input.block_rows=8192")
            with open(os.path.join(d, "report.json")) as f:
                modes = json.load(f)["memory"]["rank_modes"]
            self.assertEqual(modes, ["memory"] * 3 if memory == "auto" else ["streamed"] * 3)
            with h5py.File(os.path.join(d, "model.h5")) as f:
                runs[memory] = (scores, f["state/reference"][:], f["state/lrd"][:])
        for cached, streamed in zip(runs["auto"], runs["36MiB"]):
            self.assertTrue(np.array_equal(cached.view(np.uint64), streamed.view(np.uint64)))

    def test_lof_roc_auc_parity_on_the_24_adbench_sets(self):
        # breastw is 34% duplicated rows: which of equally distant rows are neighbours decides
        # its LOF, and scikit-learn's own tree and brute searches give 0.450 and 0.416; ties
        # broken by row index give 0.394 (also in numpy with exact ties: 0.397).
        parity(self, "lof", exceptions={"breastw": -0.06})


if __name__ == "__main__":
    unittest.main(verbosity=2)
