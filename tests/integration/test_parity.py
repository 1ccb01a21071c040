"""Isolation-forest parity with scikit-learn: on six ADBench datasets, hpcad's ROC-AUC
averaged over seeds 0-4 is within 0.02 of scikit-learn's (REFERENCE.csv, `if` rows:
IsolationForest(n_estimators=100, max_samples=256), mean of seeds 0-4)."""
import csv
import json
import os
import unittest

from hpcad_testlib import SHARED, hpcad, temp_dir, write_config

DATASETS = ["cardio", "shuttle", "thyroid", "mammography", "satimage-2", "pendigits"]


class ParityTest(unittest.TestCase):
    def test_roc_auc_within_002_of_sklearn(self):
        reference = {}
        with open(os.path.join(SHARED, "datasets", "adbench", "REFERENCE.csv")) as f:
            for row in csv.DictReader(line for line in f if not line.startswith("#")):
                if row["detector"] == "if":
                    reference[row["dataset"]] = float(row["roc_auc"])
        d = temp_dir(self)
        for name in DATASETS:
            with self.subTest(dataset=name):
                config = write_config(d, os.path.join(SHARED, "datasets", "adbench", f"{name}.h5"))
                aucs = []
                for seed in range(5):
                    r = hpcad(["run", "--config", config, "--set", f"detector.seed={seed}", "--set", "output.model="], 2)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    with open(os.path.join(d, "report.json")) as f:
                        aucs.append(json.load(f)["metrics"]["roc_auc"])
                mean = sum(aucs) / len(aucs)
                print(f"{name}: hpcad {mean:.4f} sklearn {reference[name]:.4f} diff {mean - reference[name]:+.4f}")
                self.assertLess(abs(mean - reference[name]), 0.02)


if __name__ == "__main__":
    unittest.main(verbosity=2)
