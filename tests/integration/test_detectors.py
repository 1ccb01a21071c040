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
from sklearn.cluster import KMeans
from sklearn.covariance import EmpiricalCovariance, ShrunkCovariance
from sklearn.decomposition import PCA
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.metrics import roc_auc_score
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


def parity(test, detector, seeds=(42,), reference_detector=None, extra_detector="", per_set=True,
           exceptions=None, sets=24):
    """ROC-AUC on each ADBench set (mean over `seeds`) minus REFERENCE.csv's for
    `reference_detector` (default: the same name); asserts the issue's bar: no set more than
    0.05 below (unless per_set is False; or the documented `exceptions` bound), the mean no
    more than 0.02 below."""
    reference = reference_auc(reference_detector or detector)
    test.assertEqual(len(reference), sets)
    d = temp_dir(test)
    diffs = {}
    for name in sorted(reference):
        config = detector_config(d, os.path.join(ADBENCH, f"{name}.h5"), detector, extra_detector)
        aucs = []
        for seed in seeds:
            test.run_ok(["run", "--config", config, "--set", "output.model=", "--set", f"detector.seed={seed}"], 2)
            with open(os.path.join(d, "report.json")) as f:
                aucs.append(json.load(f)["metrics"]["roc_auc"])
        diffs[name] = sum(aucs) / len(aucs) - reference[name]
    label = f"{detector} {extra_detector}".strip()
    for name, diff in diffs.items():
        print(f"{label} {name}: hpcad - sklearn {reference_detector or detector} = {diff:+.4f}")
    print(f"{label} mean difference {sum(diffs.values()) / len(diffs):+.4f}, "
          f"worst {min(diffs.values()):+.4f}")
    for name, diff in diffs.items():
        if per_set:
            test.assertGreater(diff, (exceptions or {}).get(name, -0.05), name)
    test.assertGreater(sum(diffs.values()) / len(diffs), -0.02)
    return diffs


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

    def test_exact_mode_out_of_core_gives_the_in_memory_scores(self):
        """Exact knn and lof keep a rank's rows in memory only when they fit what
        run.memory_per_rank leaves; otherwise they score chunks of the rank's rows against
        every rank's rows streamed block by block. A budget just below the rank's rows (the
        job's fixed costs plus 90% of them) makes every rank stream, hence take the chunked
        path, and the scores are bitwise those of the cached in-memory ring, on 1 to 4 ranks."""
        d = temp_dir(self)
        data = os.path.join(d, "gen.h5")
        n, features, block_rows = 8000, 8, 256
        self.run_ok(["generate", "--rows", str(n), "--features", str(features), "--seed", "9", "-o", data], 2)
        for detector in ("knn", "lof"):
            config = detector_config(d, data, detector, 'mode = "exact"')
            reference = None
            for ranks in (1, 2, 3, 4):
                local = -(-n // ranks)
                row_bytes = (features + 1) * 8  # values and label, as the cache holds them
                # job.cpp's fixed part: 32 MiB reserve, 4 blocks in flight, scores and labels.
                fixed = (32 << 20) + 4 * block_rows * row_bytes + local * 9
                memory = f"{(fixed + int(0.9 * local * row_bytes)) // 1024}KiB"
                for setting in ("auto", memory):
                    scores = self.run_scores(d, config, ranks, f'run.memory_per_rank="{setting}"',
                                             f"input.block_rows={block_rows}")
                    with open(os.path.join(d, "report.json")) as f:
                        modes = json.load(f)["memory"]["rank_modes"]
                    self.assertEqual(modes, ["memory" if setting == "auto" else "streamed"] * ranks)
                    if reference is None:
                        reference = scores
                    self.assertTrue(np.array_equal(scores.view(np.uint64), reference.view(np.uint64)),
                                    f"{detector} on {ranks} ranks, memory_per_rank {setting}")

    def test_lof_roc_auc_parity_on_the_24_adbench_sets(self):
        # breastw is 34% duplicated rows: which of equally distant rows are neighbours decides
        # its LOF, and scikit-learn's own tree and brute searches give 0.450 and 0.416; ties
        # broken by row index give 0.394 (also in numpy with exact ties: 0.397).
        parity(self, "lof", exceptions={"breastw": -0.06})


def read_state(path):
    with h5py.File(path, "r") as f:
        return {k: f["state"][k][:] for k in f["state"]}


def runs_on_ranks(test, config, directory, ranks=(1, 2, 3, 4)):
    """Scores and model state arrays of `config` run on each rank count, asserted bitwise equal
    to the 1-rank run; returns the 1-rank scores and the model file path."""
    first = None
    for n in ranks:
        out = os.path.join(directory, f"r{n}")
        test.run_ok(["run", "--config", config, "--set", f"output.path={out}.h5",
                     "--set", f"output.model={out}-model.h5", "--set", "input.block_rows=61"], n)
        scores = read_scores(f"{out}.h5")
        with h5py.File(f"{out}-model.h5") as f:
            state = {k: f["state"][k][:] for k in f["state"]}
        if first is None:
            first = (scores, state, f"{out}-model.h5")
            continue
        test.assertTrue(np.array_equal(scores.view(np.uint64), first[0].view(np.uint64)), n)
        for k, v in state.items():
            test.assertTrue(np.array_equal(v.view(np.uint64), first[1][k].view(np.uint64)), (n, k))
    return first[0], first[2]


def adbench(name):
    with h5py.File(os.path.join(ADBENCH, f"{name}.h5")) as f:
        return f["X"][:], f["y"][:]


def pyod_hbos_fit(x, n_bins=10, quantile=False):
    """Bin edges and densities per column: PyOD's HBOS.fit (np.histogram(density=True));
    quantile=True: edges at numpy's linear quantiles i / n_bins, equal edges merged."""
    fitted = []
    for column in x.T:
        if quantile:
            edges = np.unique(np.quantile(column, np.linspace(0, 1, n_bins + 1)))
            if len(edges) == 1:
                edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
        else:
            edges = n_bins
        hist, edges = np.histogram(column, bins=edges, density=True)
        fitted.append((edges, hist))
    return fitted


def pyod_hbos_score(fitted, x, alpha=0.1, tol=0.5):
    """PyOD's _calculate_outlier_scores and decision_function, transcribed: per column
    log2(density + alpha) of the value's bin (np.digitize); outside the range the edge bin
    within tol bin widths, else the smallest; the score is minus the sum over columns."""
    total = np.zeros(len(x))
    for i, (edges, hist) in enumerate(fitted):
        log_density = np.log2(hist + alpha)
        bins = np.digitize(x[:, i], edges, right=False)
        inside = log_density[np.clip(bins - 1, 0, len(hist) - 1)]
        below = np.where(edges[0] - x[:, i] <= (edges[1] - edges[0]) * tol, log_density[0], log_density.min())
        above = np.where(x[:, i] - edges[-1] <= (edges[-1] - edges[-2]) * tol, log_density[-1], log_density.min())
        total += np.where(bins == 0, below, np.where(bins == len(edges), above, inside))
    return -total


class HbosTest(HpcadTestCase):
    def check_all_sets(self, extra, quantile):
        d = temp_dir(self)
        aucs = {}
        for name in sorted(reference_auc("if")):
            x, y = adbench(name)
            expected = pyod_hbos_score(pyod_hbos_fit(x, quantile=quantile), x)
            config = detector_config(d, os.path.join(ADBENCH, f"{name}.h5"), "hbos", extra)
            self.run_ok(["run", "--config", config], 2)
            np.testing.assert_allclose(read_scores(os.path.join(d, "scores.h5")), expected,
                                       rtol=1e-9, atol=1e-9, err_msg=name)
            with open(os.path.join(d, "report.json")) as f:
                aucs[name] = json.load(f)["metrics"]["roc_auc"]
        reference = reference_auc("if")
        for name, auc in aucs.items():
            print(f"hbos {extra} {name}: roc_auc {auc:.4f} (sklearn iforest {reference[name]:.4f})")
        print(f"hbos {extra} mean roc_auc {np.mean(list(aucs.values())):.4f}")

    def test_static_bins_match_a_numpy_transcription_of_pyod_on_the_24_adbench_sets(self):
        self.check_all_sets("", quantile=False)

    def test_quantile_bins_match_numpy_quantiles_on_the_24_adbench_sets(self):
        self.check_all_sets('bins = "quantile"', quantile=True)

    def test_scores_of_new_data_outside_the_range_and_rank_invariance(self):
        d = temp_dir(self)
        x, _ = adbench("cardio")
        config = detector_config(d, os.path.join(ADBENCH, "cardio.h5"), "hbos", "n_bins = 7\nalpha = 0.05\ntol = 0.3")
        fitted = pyod_hbos_fit(x, n_bins=7)
        # Shifted and stretched rows: some within tol bin widths of the range, some far out.
        rng = np.random.default_rng(5)
        new = x * rng.uniform(0.8, 1.25, size=x.shape) + rng.normal(0, 0.05, size=x.shape)
        other = os.path.join(d, "new.h5")
        with h5py.File(other, "w") as f:
            f["X"] = new
        expected = pyod_hbos_score(fitted, new, alpha=0.05, tol=0.3)
        first = None
        for ranks in (1, 2, 3, 4):
            self.run_ok(["run", "--config", config], ranks)
            self.run_ok(["score", "--config", config, "--model", f"{d}/model.h5", "--set", f"input.path={other}",
                         "--set", "input.label=", "--set", f"output.path={d}/new-scores.h5"], ranks)
            scores = read_scores(f"{d}/new-scores.h5")
            np.testing.assert_allclose(scores, expected, rtol=1e-9, atol=1e-9)
            first = scores if first is None else first
            self.assertTrue(np.array_equal(scores.view(np.uint64), first.view(np.uint64)), ranks)

    def test_bad_parameters(self):
        d = temp_dir(self)
        config = detector_config(d, os.path.join(ADBENCH, "wine.h5"), "hbos")
        r = self.run_failing(["run", "--config", config, "--set", "detector.n_bins=0"], 1)
        self.assertIn("n_bins", r.stderr)
        r = self.run_failing(["run", "--config", config, "--set", 'detector.bins="dynamic"'], 1)
        self.assertIn("bins", r.stderr)


def c_factor(n):
    """Average path length of an unsuccessful BST search (Liu et al. 2008), c(1) = 0."""
    if n <= 1:
        return 0.0
    if n == 2:
        return 1.0
    return 2.0 * (np.log(n - 1.0) + np.euler_gamma) - 2.0 * (n - 1.0) / n


def eif_scores(state, x):
    """Extended-isolation-forest scores from a saved model's node arrays, walked in numpy
    over the rows standardised with the model's stored mean and scale."""
    d = x.shape[1]
    x = (x - state["mean"]) / state["scale"]
    normal = state["node_normal"].reshape(-1, d)
    left, value, offsets = state["node_left"], state["node_value"], state["tree_offsets"]
    paths = np.zeros(len(x))
    for r, row in enumerate(x):
        for begin in offsets[:-1]:
            node = begin
            while left[node] >= 0:
                node = begin + left[node] + (1 if np.dot(row, normal[node]) > value[node] else 0)
            paths[r] += value[node]
    psi = int(state["effective_sample_size"][0])
    return 2.0 ** (-paths / (len(offsets) - 1) / c_factor(psi))


class EifTest(HpcadTestCase):
    def test_numpy_walk_of_the_saved_model_and_extension_levels(self):
        d = temp_dir(self)
        x, _ = adbench("cardio")
        for level in (0, 5, None):
            extra = "n_trees = 40" + (f"\nextension_level = {level}" if level is not None else "")
            config = detector_config(d, os.path.join(ADBENCH, "cardio.h5"), "eif", extra)
            self.run_ok(["run", "--config", config], 3)
            state = read_state(os.path.join(d, "model.h5"))
            scores = read_scores(os.path.join(d, "scores.h5"))
            rows = np.arange(0, len(x), 97)
            np.testing.assert_allclose(scores[rows], eif_scores(state, x[rows]), rtol=1e-12)
            self.assertTrue(np.all((scores > 0) & (scores < 1)))
            internal = state["node_left"] >= 0
            nonzero = (state["node_normal"].reshape(-1, x.shape[1])[internal] != 0).sum(axis=1)
            expected = x.shape[1] if level is None else level + 1
            self.assertTrue(np.all(nonzero == expected), (level, np.unique(nonzero)))
            self.assertEqual(len(state["tree_offsets"]), 41)

    def test_rank_invariance_and_bad_extension_level(self):
        d = temp_dir(self)
        config = detector_config(d, os.path.join(ADBENCH, "wbc.h5"), "eif", "n_trees = 30")
        first = None
        for ranks in (1, 2, 3, 4):
            self.run_ok(["run", "--config", config], ranks)
            scores = read_scores(os.path.join(d, "scores.h5"))
            first = scores if first is None else first
            self.assertTrue(np.array_equal(scores.view(np.uint64), first.view(np.uint64)), ranks)
        r = self.run_failing(["run", "--config", config, "--set", "detector.extension_level=9"], 2)
        self.assertIn("detector.extension_level = 9: the input has 9 features, so at most 8", r.stderr)

    def test_axis_parallel_roc_auc_within_the_bar_of_scikit_learn_isolation_forest(self):
        # extension_level 0 draws splits as the isolation forest does: the issue's bar holds.
        parity(self, "eif", seeds=(0, 1, 2, 3, 4), reference_detector="if",
               extra_detector="extension_level = 0")

    def test_fully_extended_roc_auc_on_average_within_the_bar_of_isolation_forest(self):
        # Oblique splits dilute anomalies that stand out in one feature: on annthyroid the
        # fully extended forest is about 0.18 below the isolation forest (thyroid 0.05), a
        # property of the algorithm (extension_level 0 is within 0.02 there). So only the
        # mean is held to the bar.
        parity(self, "eif", seeds=(0, 1, 2, 3, 4), reference_detector="if", per_set=False)


def sklearn_kmeans_auc(name, n_init, seeds):
    """ROC-AUC of StandardScaler + KMeans(8, n_init) distance to the nearest centre, as
    REFERENCE.csv computes it, averaged over `seeds`."""
    x, y = adbench(name)
    z = StandardScaler().fit_transform(x)
    return np.mean([roc_auc_score(y, KMeans(8, n_init=n_init, random_state=s).fit(z).transform(z).min(axis=1))
                    for s in seeds])


class KMeansTest(HpcadTestCase):
    # REFERENCE.csv's KMeans(8, n_init=1) averaged over seeds 0-4 is itself noisy on the small
    # sets: on wbc scikit-learn's seeds 0-19 range from 0.70 to 0.96 (mean 0.88; seeds 0-4 give
    # 0.95), and its best-of-10 seeding (n_init=10, lowest inertia) is 0.08 below the reference
    # on shuttle. hpcad's default (n_init = 10, as scikit-learn 1.2's default) is held to the
    # bar against scikit-learn run the same way here, and to the reference on average.
    SEEDS = (0, 1, 2, 3, 4)

    def test_roc_auc_parity_with_scikit_learn_best_of_ten_seedings(self):
        reference = {name: sklearn_kmeans_auc(name, 10, self.SEEDS) for name in reference_auc("kmeans")}
        hpcad_diffs = parity(self, "kmeans", seeds=self.SEEDS, per_set=False)
        diffs = {name: hpcad_diffs[name] + reference_auc("kmeans")[name] - auc for name, auc in reference.items()}
        for name, diff in diffs.items():
            print(f"kmeans {name}: hpcad - sklearn n_init=10 = {diff:+.4f}")
            self.assertGreater(diff, -0.05, name)
        self.assertGreater(np.mean(list(diffs.values())), -0.02)

    def test_kmeans_parallel_roc_auc_parity_on_average(self):
        parity(self, "kmeans", seeds=self.SEEDS, extra_detector='init = "k-means||"', per_set=False)

    def test_seedings_shared_by_ranks_give_one_model_for_one_to_four_ranks_and_more_ranks_than_rows(self):
        """The n_init seedings are shared out among the ranks and the best one broadcast from
        its rank: 3 seedings on 4 ranks leave one rank without any, 5 ranks on 4 rows more.
        The scores are the distance to the nearest of the model's centres (numpy)."""
        d = temp_dir(self)
        cases = [(os.path.join(ADBENCH, "cardio.h5"), "n_clusters = 4\nn_init = 3", (1, 2, 3, 4)),
                 (os.path.join(d, "four.h5"), "n_clusters = 2\nn_init = 3", (1, 5))]
        write_table(cases[1][0], np.array([[0.0, 1.0], [2.0, 0.5], [7.0, -3.0], [6.5, -2.0]]),
                    np.array([0, 0, 1, 1]))
        for data, keys, rank_counts in cases:
            with h5py.File(data) as f:
                x = f["X"][:]
            config = detector_config(d, data, "kmeans", keys)
            first = None
            for ranks in rank_counts:
                self.run_ok(["run", "--config", config], ranks)
                scores = read_scores(os.path.join(d, "scores.h5"))
                with h5py.File(os.path.join(d, "model.h5")) as f:
                    state = {k: f["state"][k][:] for k in f["state"]}
                z = (x - state["mean"]) / state["scale"]
                centres = state["centres"].reshape(len(state["cluster_scale"]), -1)
                nearest = np.sqrt(((z[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
                np.testing.assert_allclose(scores, nearest, rtol=1e-12, err_msg=f"{data} {ranks}")
                if first is None:
                    first = (scores, state)
                    continue
                self.assertTrue(np.array_equal(scores.view(np.uint64), first[0].view(np.uint64)), ranks)
                for k, v in state.items():
                    self.assertTrue(np.array_equal(v, first[1][k]), f"{k} {ranks}")


class OcsvmTest(HpcadTestCase):
    """Nystroem + SGD one-class SVM against scikit-learn's Nystroem + SGDOneClassSVM and kernel
    OneClassSVM (REFERENCE.csv). SGD paths differ from scikit-learn's, so scores are compared
    by ROC-AUC, not row by row."""

    def test_bitwise_identical_on_one_to_four_ranks_and_auc_near_scikit_learn(self):
        from sklearn.kernel_approximation import Nystroem
        from sklearn.linear_model import SGDOneClassSVM
        from sklearn.metrics import roc_auc_score
        d = temp_dir(self)
        kernel = reference_auc("ocsvm")
        for name in ("cardio", "wbc"):
            x, y = adbench(name)
            scores, _ = runs_on_ranks(self, detector_config(d, os.path.join(ADBENCH, f"{name}.h5"), "ocsvm"), d)
            z = StandardScaler().fit_transform(x)
            phi = Nystroem(gamma=1 / (z.shape[1] * z.var()), n_components=100, random_state=0).fit_transform(z)
            sgd = roc_auc_score(y, -SGDOneClassSVM(nu=0.1, random_state=0).fit(phi).decision_function(phi))
            ours = roc_auc_score(y, scores)
            print(f"ocsvm {name}: hpcad {ours:.4f} sklearn Nystroem+SGD {sgd:.4f} OneClassSVM {kernel[name]:.4f}")
            self.assertGreater(ours, max(sgd, kernel[name]) - 0.05, name)

    def test_bad_nu_is_refused(self):
        d = temp_dir(self)
        config = detector_config(d, os.path.join(ADBENCH, "wbc.h5"), "ocsvm", "nu = 0.0")
        r = self.run_failing(["run", "--config", config], 2)
        self.assertIn("detector.nu = 0: must be in (0, 1]", r.stderr)


def autoencoder_reconstruction(model_path, x):
    """Mean squared reconstruction error per row from the saved model, in numpy (the layout
    documented in autoencoder.hpp)."""
    with h5py.File(model_path) as f:
        state = {k: f["state"][k][:] for k in f["state"]}
    z = (x - state["mean"]) / state["scale"]
    sizes, flat, at = state["layer_sizes"], state["weights"], 0
    a = z
    for layer in range(len(sizes) - 1):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        w = flat[at:at + n_in * n_out].reshape(n_in, n_out)  # column-major out x in = rows of W^T
        at += n_in * n_out
        b = flat[at:at + n_out]
        at += n_out
        a = a @ w + b
        if layer < len(sizes) - 2:
            a = np.maximum(a, 0)
    assert at == len(flat)
    return ((a - z) ** 2).mean(axis=1)


class GradientStreamingTest(HpcadTestCase):
    def test_streamed_input_gives_the_cached_models_and_scores(self):
        """ocsvm and autoencoder keep only their sampled rows, so a rank whose rows do not fit
        the cache trains on the same rows and gives bitwise the same model and scores."""
        d = temp_dir(self)
        data = os.path.join(d, "gen.h5")
        self.run_ok(["generate", "--rows", "300000", "--features", "8", "--seed", "5", "-o", data], 2)
        for detector, extra in (("ocsvm", "n_components = 20\nepochs = 2\nmax_samples = 4000"),
                                ("autoencoder", "epochs = 3\nmax_samples = 4000")):
            config = detector_config(d, data, detector, extra)
            runs = {}
            for memory in ("auto", "36MiB"):  # 36 MiB: 7 MiB of rows per rank do not fit the cache
                out = os.path.join(d, f"{detector}-{memory}")
                self.run_ok(["run", "--config", config, "--set", f"output.path={out}.h5",
                             "--set", f"output.model={out}-model.h5", "--set", f'run.memory_per_rank="{memory}"',
                             "--set", "input.block_rows=8192"], 3)
                with open(os.path.join(d, "report.json")) as f:
                    modes = json.load(f)["memory"]["rank_modes"]
                self.assertEqual(modes, ["memory"] * 3 if memory == "auto" else ["streamed"] * 3)
                with h5py.File(f"{out}-model.h5") as f:
                    state = {k: f["state"][k][:].tobytes() for k in f["state"]}
                runs[memory] = (read_scores(f"{out}.h5").tobytes(), state)
            self.assertEqual(runs["auto"], runs["36MiB"], detector)


class AutoencoderTest(HpcadTestCase):
    def test_bitwise_identical_on_one_to_four_ranks_and_numpy_forward_pass(self):
        d = temp_dir(self)
        x, y = adbench("cardio")
        config = detector_config(d, os.path.join(ADBENCH, "cardio.h5"), "autoencoder", "epochs = 20")
        scores, model = runs_on_ranks(self, config, d)
        np.testing.assert_allclose(scores, autoencoder_reconstruction(model, x), rtol=1e-12, atol=1e-14)
        # Train once, score many: the saved model scores the same rows bitwise.
        self.run_ok(["score", "--config", config, "--model", model, "--set", f"output.path={d}/again.h5"], 3)
        self.assertTrue(np.array_equal(read_scores(f"{d}/again.h5").view(np.uint64), scores.view(np.uint64)))

    def test_empty_hidden_list_is_refused(self):
        d = temp_dir(self)
        config = detector_config(d, os.path.join(ADBENCH, "wbc.h5"), "autoencoder", "hidden = []")
        r = self.run_failing(["run", "--config", config], 2)
        self.assertIn("detector.hidden = []: the autoencoder needs at least one hidden layer", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
