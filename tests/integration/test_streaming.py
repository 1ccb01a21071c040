"""Streaming input and the model pipeline, end to end: a memory budget far below a rank's
data gives the same scores as the cached run with bounded peak RSS (GNU time around each
rank), imputation uses the training rows' means (checked with math.fsum), and --set
detector.type overrides the file."""
import json
import math
import os
import re
import subprocess
import tempfile
import unittest

import h5py
import numpy as np

from hpcad_testlib import HpcadTestCase, HPCAD, MPIEXEC, hpcad, temp_dir, write_config

TIME = "/usr/bin/time"
MIB = 1 << 20


def write_h5(path, x, y=None):
    with h5py.File(path, "w") as f:
        f["X"] = x
        if y is not None:
            f["y"] = y


def read_scores(path):
    with h5py.File(path, "r") as f:
        return f["score"][:]


def read_json(path):
    with open(path) as f:
        return json.load(f)


def peak_rss_per_rank(args, ranks):
    """Runs hpcad under mpiexec with GNU time around every rank; returns (process, peak RSS
    in bytes per rank)."""
    # GNU time appends to a file: its stderr line, forwarded by mpiexec at the ranks' exit,
    # was lost once under a loaded machine.
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        cmd = [MPIEXEC, "--oversubscribe", "-n", str(ranks), TIME, "-a", "-o", rss.name, "-f",
               "peak-rss-kb %M", HPCAD] + args
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        peaks = [int(kb) * 1024 for kb in re.findall(r"peak-rss-kb (\d+)", rss.read())]
    return r, peaks


class StreamingTest(HpcadTestCase):
    def test_budget_below_the_data_streams_with_bounded_memory_and_identical_scores(self):
        d = temp_dir(self)
        data = os.path.join(d, "big.h5")
        # 600,000 x 16 float64 = 73 MiB, 37 MiB per rank with 2 ranks.
        self.run_ok(["generate", "--rows", "600000", "--features", "16", "--seed", "5", "-o", data], 2)
        tiny = os.path.join(d, "tiny.h5")
        write_h5(tiny, np.random.default_rng(1).normal(size=(20, 16)), np.zeros(20, np.int8))
        config = write_config(d, data, label="y", extra='score_block_rows = 4096')
        budget_mib = 40

        def job(name, memory, input_path=data, block_rows=8192):
            return ["run", "--config", config, "--set", f"input.path={input_path}",
                    "--set", f"input.block_rows={block_rows}",
                    "--set", f'run.memory_per_rank="{memory}"',
                    "--set", f"output.path={d}/{name}-scores.h5", "--set", f"output.model={d}/{name}-model.h5",
                    "--set", f"output.report={d}/{name}-report.json"]

        # The libraries' fixed footprint: the same job on 20 rows.
        r, baseline = peak_rss_per_rank(job("tiny", "1GiB", tiny), 2)
        self.assertEqual(r.returncode, 0, r.stderr)
        r, cached = peak_rss_per_rank(job("cached", "4GiB"), 2)
        self.assertEqual(r.returncode, 0, r.stderr)
        r, streamed = peak_rss_per_rank(job("streamed", f"{budget_mib}MiB"), 2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(streamed), 2)

        cached_report = read_json(f"{d}/cached-report.json")
        streamed_report = read_json(f"{d}/streamed-report.json")
        self.assertEqual(cached_report["memory"]["rank_modes"], ["memory", "memory"])
        self.assertEqual(streamed_report["memory"]["rank_modes"], ["streamed", "streamed"])
        self.assertEqual(streamed_report["memory"]["budget_bytes"], budget_mib * MIB)
        # Same model and scores, bit for bit.
        a, b = read_scores(f"{d}/cached-scores.h5"), read_scores(f"{d}/streamed-scores.h5")
        self.assertTrue(np.array_equal(a.view(np.uint64), b.view(np.uint64)))
        with h5py.File(f"{d}/cached-model.h5") as fa, h5py.File(f"{d}/streamed-model.h5") as fb:
            for k in fa["state"]:
                self.assertTrue(np.array_equal(fa["state"][k][:], fb["state"][k][:]), k)
        # Peak RSS per rank: within the budget plus the libraries' fixed footprint, and well
        # below the cached run, which holds 37 MiB of rows per rank.
        for rank, peak in enumerate(streamed):
            self.assertLessEqual(peak, max(baseline) + budget_mib * MIB,
                                 f"rank {rank}: peak RSS {peak / MIB:.1f} MiB, baseline "
                                 f"{max(baseline) / MIB:.1f} MiB, budget {budget_mib} MiB")
        self.assertLess(max(streamed) + 20 * MIB, min(cached),
                        f"streamed {[p / MIB for p in streamed]} vs cached {[p / MIB for p in cached]} MiB")
        self.assertGreater(streamed_report["memory"]["peak_rss"]["max"], 0)

    def test_budget_too_small_for_the_scores_is_a_clear_error(self):
        d = temp_dir(self)
        data = os.path.join(d, "x.h5")
        write_h5(data, np.zeros((300000, 2)))
        config = write_config(d, data, label="")
        r = hpcad(["run", "--config", config, "--set", 'run.memory_per_rank="1MiB"'], 2)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("run.memory_per_rank", r.stderr)
        self.assertIn("150000 rows on this rank", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "scores.h5")))

    def test_imputation_uses_the_training_means_when_scoring_other_data(self):
        d = temp_dir(self)
        rng = np.random.default_rng(7)
        train = rng.normal(size=(3000, 4)) * [1, 10, 100, 1000] + [0, 5, -50, 1e6]
        train[rng.random(train.shape) < 0.05] = np.nan
        score = rng.normal(size=(1000, 4)) * [2, 20, 200, 2000]
        holes = rng.random(score.shape) < 0.1
        score_nan = np.where(holes, np.nan, score)
        # The fill values: correctly rounded sums of the finite training values / counts.
        means = [math.fsum(c[np.isfinite(c)]) / np.isfinite(c).sum() for c in train.T]
        score_filled = np.where(holes, np.array(means)[None, :], score)
        write_h5(os.path.join(d, "train.h5"), train)
        write_h5(os.path.join(d, "score.h5"), score_nan)
        write_h5(os.path.join(d, "filled.h5"), score_filled)
        config = write_config(d, os.path.join(d, "train.h5"), label="", extra="",
                              input_extra='nan_policy = "impute"')
        for ranks in (1, 3):
            model = os.path.join(d, f"model{ranks}.h5")
            self.run_ok(["train", "--config", config, "--set", f"output.model={model}"], ranks)
            with h5py.File(model) as f:
                fill = f["transforms"]["0"]["state"]["fill"][:]
                self.assertEqual(f["transforms"]["0"].attrs["type"], "impute")
            self.assertEqual(list(fill), means)  # exact, for any rank count
            outputs = {}
            for name in ("score", "filled"):
                out = os.path.join(d, f"{name}{ranks}.h5")
                self.run_ok(["score", "--config", config, "--model", model,
                             "--set", f"input.path={os.path.join(d, name + '.h5')}",
                             "--set", f"output.path={out}", "--set", 'output.report=""'], ranks)
                outputs[name] = read_scores(out)
            self.assertTrue(np.array_equal(outputs["score"], outputs["filled"]))

    def test_nan_without_imputation_names_row_and_column(self):
        d = temp_dir(self)
        x = np.ones((50, 3))
        x[41, 2] = np.inf
        write_h5(os.path.join(d, "x.h5"), x)
        config = write_config(d, os.path.join(d, "x.h5"), label="")
        r = hpcad(["run", "--config", config], 3)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("row 41, column 2: value is inf", r.stderr)
        self.assertEqual(r.stderr.count("hpcad: error"), 1)

    def test_set_detector_type_overrides_the_file(self):
        d = temp_dir(self)
        write_h5(os.path.join(d, "x.h5"), np.random.default_rng(0).normal(size=(100, 2)))
        config = write_config(d, os.path.join(d, "x.h5"), label="")
        with open(config) as f:
            text = f.read().replace('type = "iforest"', 'type = "nosuch"')
        with open(config, "w") as f:
            f.write(text)
        r = hpcad(["run", "--config", config])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('unknown detector type "nosuch"', r.stderr)
        self.run_ok(["run", "--config", config, "--set", "detector.type=iforest"])
        with h5py.File(os.path.join(d, "model.h5")) as f:
            self.assertEqual(f.attrs["detector"], "iforest")


if __name__ == "__main__":
    unittest.main(verbosity=2)
