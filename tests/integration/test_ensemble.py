"""The ensemble detector end to end: member scores bitwise equal to the standalone detectors',
normalised and combined scores against numpy (numpy.quantile, median, MAD) computed from the
member scores in the scores file, identical files for 1-4 MPI ranks and for cached or streamed
input, train/score through the model file, config errors naming the member, and the shipped
configs/ensemble.toml against REFERENCE.csv on the 24 ADBench sets."""
import json
import os
import unittest

import h5py
import numpy as np
from sklearn.metrics import roc_auc_score

from hpcad_testlib import SHARED, SOURCE_DIR, HpcadTestCase, temp_dir, write_config
from test_detectors import reference_auc

ADBENCH = os.path.join(SHARED, "datasets", "adbench")
CARDIO = os.path.join(ADBENCH, "cardio.h5")
# (name, type, keys): every kind of member, one with a non-default key.
MEMBERS = [("forest", "iforest", "n_trees = 40\nseed = 7"), ("pca", "pca", ""),
           ("kmeans", "kmeans", "n_clusters = 5"), ("mahalanobis", "mahalanobis", "")]
WEIGHTS = [1.0, 0.5, 2.0, 1.5]


def members_toml(members, weights=None):
    tables = []
    for i, (name, kind, keys) in enumerate(members):
        lines = ["[[detector.members]]", f'type = "{kind}"', f'name = "{name}"', keys]
        if weights:
            lines.append(f"weight = {weights[i]}")
        tables.append("\n".join(lines))
    return "\n".join(tables)


def set_detector(config, detector_toml):
    """Replaces write_config's isolation-forest [detector] keys."""
    with open(config) as f:
        text = f.read().replace('type = "iforest"\nseed = 42', detector_toml)
    with open(config, "w") as f:
        f.write(text)
    return config


def ensemble_config(directory, data, members=MEMBERS, normalization="robust_z", combine="mean",
                    weights=None):
    detector = (f'type = "ensemble"\nnormalization = "{normalization}"\ncombine = "{combine}"\n'
                + members_toml(members, weights))
    return set_detector(write_config(directory, data), detector)


def read_all(path):
    """/score and every /scores/<name>, as a dict."""
    with h5py.File(path, "r") as f:
        scores = {"score": f["score"][:]}
        for name in f.get("scores", {}):
            scores[name] = f["scores"][name][:]
    return scores


def bitwise_equal(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


PROBS = np.arange(1001) / 1000


def rank_normalised(train, s):
    """The documented rank normalisation: position in a 1001-point numpy.quantile table of the
    training scores, linear between its points, the middle of a run of equal points."""
    q = np.quantile(train, PROBS)
    lo = np.searchsorted(q, s, "left")
    hi = np.searchsorted(q, s, "right")
    out = np.empty_like(s)
    tied = hi > lo
    out[tied] = (lo[tied] + hi[tied] - 1) / 2 / 1000
    out[~tied & (lo == 0)] = 0
    out[~tied & (lo == len(q))] = 1
    inside = ~tied & (lo > 0) & (lo < len(q))
    k = lo[inside]
    out[inside] = ((k - 1) + (s[inside] - q[k - 1]) / (q[k] - q[k - 1])) / 1000
    return out


def robust_z(train, s):
    median = np.median(train)
    deviation = np.abs(train - median)
    mad = np.median(deviation)
    scale = 1.4826 * mad if mad > 0 else (deviation.max() if deviation.max() > 0 else 1.0)
    return (s - median) / scale


def combined_reference(train_parts, parts, normalization, combine, weights=None):
    normalise = rank_normalised if normalization == "rank" else robust_z
    z = np.array([normalise(train_parts[m], parts[m]) for m in range(len(parts))])
    if combine == "max":
        return z.max(axis=0)
    w = np.array(weights if combine == "weighted_mean" else [1.0] * len(parts))
    return (w[:, None] * z).sum(axis=0) / w.sum()


class EnsembleTest(HpcadTestCase):
    def test_member_scores_are_the_standalone_detectors_scores_bitwise(self):
        d = temp_dir(self)
        config = ensemble_config(d, CARDIO)
        self.run_ok(["run", "--config", config, "--set", f"output.path={d}/ensemble.h5"], 2)
        ensemble = read_all(f"{d}/ensemble.h5")
        self.assertEqual(sorted(ensemble), sorted(["score"] + [m[0] for m in MEMBERS]))
        for name, kind, keys in MEMBERS:
            alone = set_detector(write_config(d, CARDIO), f'type = "{kind}"\n{keys}')
            self.run_ok(["run", "--config", alone, "--set", f"output.path={d}/{name}.h5"], 2)
            self.assertTrue(bitwise_equal(ensemble[name], read_all(f"{d}/{name}.h5")["score"]), name)

    def test_normalised_and_combined_scores_match_numpy(self):
        d = temp_dir(self)
        for normalization, combine in [("rank", "mean"), ("robust_z", "mean"), ("rank", "max"),
                                       ("robust_z", "weighted_mean"), ("rank", "weighted_mean")]:
            config = ensemble_config(d, CARDIO, normalization=normalization, combine=combine,
                                     weights=WEIGHTS)
            self.run_ok(["run", "--config", config], 3)
            scores = read_all(f"{d}/scores.h5")
            parts = [scores[m[0]] for m in MEMBERS]
            expected = combined_reference(parts, parts, normalization, combine, WEIGHTS)
            np.testing.assert_allclose(scores["score"], expected, rtol=1e-12, atol=1e-12,
                                       err_msg=f"{normalization} {combine}")

    def test_identical_files_for_one_to_four_ranks_and_streamed_input(self):
        d = temp_dir(self)
        config = ensemble_config(d, CARDIO, normalization="rank")
        runs = []
        for ranks in (1, 2, 3, 4):
            out = f"{d}/r{ranks}.h5"
            self.run_ok(["run", "--config", config, "--set", f"output.path={out}",
                         "--set", "input.block_rows=97"], ranks)
            runs.append(read_all(out))
        for run in runs[1:]:
            for name in runs[0]:
                self.assertTrue(bitwise_equal(run[name], runs[0][name]), name)
        # Larger than the cache: every pass (members' fits, quantile passes) reads the file.
        data = os.path.join(d, "gen.h5")
        self.run_ok(["generate", "--rows", "300000", "--features", "8", "--seed", "5", "-o", data], 2)
        members = [("forest", "iforest", "n_trees = 10"), ("pca", "pca", "")]
        config = ensemble_config(d, data, members, normalization="rank")
        files = {}
        for memory in ("auto", "40MiB"):  # 40 MiB: 7 MiB of rows per rank do not fit the cache
            out = f"{d}/{memory}.h5"
            self.run_ok(["run", "--config", config, "--set", f"output.path={out}", "--set",
                         f'run.memory_per_rank="{memory}"', "--set", "input.block_rows=8192"], 3)
            with open(f"{d}/report.json") as f:
                modes = json.load(f)["memory"]["rank_modes"]
            self.assertEqual(modes, ["memory"] * 3 if memory == "auto" else ["streamed"] * 3)
            files[memory] = read_all(out)
        for name in files["auto"]:
            self.assertTrue(bitwise_equal(files["auto"][name], files["40MiB"][name]), name)

    def test_train_then_score_new_rows_with_the_stored_normalisation(self):
        d = temp_dir(self)
        with h5py.File(CARDIO) as f:
            x, y = f["X"][:], f["y"][:]
        for part, rows in (("train", slice(0, 1200)), ("new", slice(1200, None))):
            with h5py.File(f"{d}/{part}.h5", "w") as f:
                f["X"], f["y"] = x[rows], y[rows]
        for normalization, combine in (("rank", "mean"), ("robust_z", "max")):
            config = ensemble_config(d, f"{d}/train.h5", normalization=normalization,
                                     combine=combine)
            self.run_ok(["run", "--config", config, "--set", f"output.path={d}/train_scores.h5"], 2)
            self.run_ok(["train", "--config", config, "--set", f"output.model={d}/model.h5"], 3)
            self.run_ok(["score", "--config", config, "--model", f"{d}/model.h5", "--set",
                         f"input.path={d}/train.h5", "--set", f"output.path={d}/rescored.h5"], 1)
            self.run_ok(["score", "--config", config, "--model", f"{d}/model.h5", "--set",
                         f"input.path={d}/new.h5", "--set", f"output.path={d}/new_scores.h5"], 2)
            train, rescored = read_all(f"{d}/train_scores.h5"), read_all(f"{d}/rescored.h5")
            for name in train:
                self.assertTrue(bitwise_equal(train[name], rescored[name]), name)
            new = read_all(f"{d}/new_scores.h5")
            names = [m[0] for m in MEMBERS]
            expected = combined_reference([train[n] for n in names], [new[n] for n in names],
                                          normalization, combine)
            np.testing.assert_allclose(new["score"], expected, rtol=1e-12, atol=1e-12)
            r = self.run_ok(["inspect", f"{d}/model.h5"])
            self.assertIn("ensemble", r.stdout)

    def test_config_errors_name_the_member(self):
        d = temp_dir(self)
        cases = [
            ('type = "ensemble"', "detector.members: an ensemble needs at least one member"),
            ('type = "ensemble"\n[[detector.members]]\ntype = "pca"\n[[detector.members]]\n'
             'type = "kmeans"\nn_clusters = 0',
             "detector.members[1] (kmeans).n_clusters = 0: must be at least 1"),
            ('type = "ensemble"\n[[detector.members]]\ntype = "pca"\nn_cluster = 3',
             "unknown key 'detector.members[0] (pca).n_cluster'"),
            ('type = "ensemble"\n[[detector.members]]\ntype = "ensemble"',
             'detector.members[0].type = "ensemble": must be one of'),
            ('type = "ensemble"\n[[detector.members]]\nn_clusters = 3',
             "detector.members[0]: missing key 'type'"),
            ('type = "ensemble"\n[[detector.members]]\ntype = "pca"\nname = "a"\n'
             '[[detector.members]]\ntype = "kmeans"\nname = "a"',
             'detector.members[1].name = "a": another member has this name'),
        ]
        for detector, message in cases:
            config = set_detector(write_config(d, CARDIO), detector)
            r = self.run_failing(["run", "--config", config], 2)
            self.assertIn(message, r.stderr)
        # A member whose parameters do not fit the data names the member too.
        config = ensemble_config(d, CARDIO, [("pca", "pca", "n_components = 50")])
        r = self.run_failing(["run", "--config", config], 2)
        self.assertIn("detector.members[0] (pca): detector.n_components = 50", r.stderr)


class DefaultEnsembleTest(HpcadTestCase):
    def test_mean_roc_auc_over_the_24_sets_beats_the_best_scikit_learn_detector(self):
        reference = {k: reference_auc(k) for k in ("if", "kmeans", "pca", "lof", "ocsvm")}
        best_detector, best_mean = max(((k, np.mean(list(v.values()))) for k, v in reference.items()),
                                       key=lambda kv: kv[1])
        d = temp_dir(self)
        config = os.path.join(SOURCE_DIR, "configs", "ensemble.toml")
        aucs = {}
        for name in sorted(reference[best_detector]):
            out = f"{d}/{name}.h5"
            self.run_ok(["run", "--config", config, "--set", f"input.path={ADBENCH}/{name}.h5",
                         "--set", f"output.path={out}", "--set", "output.model=",
                         "--set", f"output.report={d}/report.json"], 2)
            with h5py.File(f"{ADBENCH}/{name}.h5") as f:
                labels = f["y"][:]
            scores = read_all(out)
            aucs[name] = {k: roc_auc_score(labels, v) for k, v in scores.items()}
            with open(f"{d}/report.json") as f:
                self.assertAlmostEqual(json.load(f)["metrics"]["roc_auc"], aucs[name]["score"], 9)
        self.assertEqual(len(aucs), 24)
        for name, a in aucs.items():
            print(name, " ".join(f"{k} {v:.4f}" for k, v in sorted(a.items())))
        means = {k: np.mean([a[k] for a in aucs.values()]) for k in aucs["annthyroid"]}
        print("mean ROC-AUC:", means, f"; best scikit-learn: {best_detector} {best_mean:.4f}")
        self.assertGreater(means["score"], best_mean)
        for member in set(means) - {"score"}:
            self.assertGreater(means["score"], means[member], member)


if __name__ == "__main__":
    unittest.main(verbosity=2)
