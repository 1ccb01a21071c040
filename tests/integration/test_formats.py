"""End to end: `hpcad run` on the Parquet (DuckDB-written, snappy and zstd) and CSV versions
of shuttle and cardio gives bitwise the same scores as on the HDF5 version, for 1-4 ranks;
multi-file inputs read as their concatenation; bad CSV rows are reported with file and line."""
import glob
import os
import unittest

import h5py
import numpy as np

from hpcad_testlib import SHARED, hpcad, temp_dir, write_config


def scores_of(path):
    with h5py.File(path, "r") as f:
        return f["score"][:]


class FormatsTest(unittest.TestCase):
    def run_scores(self, d, input_path, label, ranks, name, extra=()):
        config = write_config(d, input_path, label=label)
        out = os.path.join(d, f"{name}.h5")
        args = ["run", "--config", config, "--set", f"output.path={out}", "--set", "output.model=",
                "--set", "output.report="]
        for e in extra:
            args += ["--set", e]
        r = hpcad(args, ranks)
        self.assertEqual(r.returncode, 0, r.stderr)
        return scores_of(out)

    def test_parquet_and_csv_score_like_hdf5_for_1_to_4_ranks(self):
        d = temp_dir(self)
        for name in ("shuttle", "cardio"):
            reference = self.run_scores(d, f"{SHARED}/datasets/adbench/{name}.h5", "y", 1, f"{name}-h5")
            inputs = [(f"{SHARED}/datasets/csv/{name}.csv", "csv")] + [
                (p, os.path.basename(p)) for p in sorted(glob.glob(f"{SHARED}/datasets/parquet/{name}.*.parquet"))]
            self.assertEqual(len(inputs), 3)
            for path, kind in inputs:
                for ranks in (1, 2, 3, 4):
                    with self.subTest(dataset=name, input=kind, ranks=ranks):
                        got = self.run_scores(d, path, "label", ranks, f"{name}-{kind}-{ranks}")
                        self.assertTrue(np.array_equal(got.view(np.uint64), reference.view(np.uint64)))

    def test_directory_of_csv_files_reads_as_their_concatenation(self):
        d = temp_dir(self)
        with open(f"{SHARED}/datasets/csv/cardio.csv") as f:
            lines = f.read().splitlines(keepends=True)
        parts = os.path.join(d, "parts")
        os.mkdir(parts)
        header, rows = lines[0], lines[1:]
        for i, chunk in enumerate((rows[:700], rows[700:701], rows[701:])):
            with open(os.path.join(parts, f"part-{i}.csv"), "w") as f:
                f.write(header + "".join(chunk))
        reference = self.run_scores(d, f"{SHARED}/datasets/adbench/cardio.h5", "y", 1, "ref")
        for ranks in (1, 3):
            got = self.run_scores(d, parts, "label", ranks, f"dir-{ranks}", extra=["input.format=csv"])
            np.testing.assert_array_equal(got, reference)

    def test_bad_csv_row_names_file_line_and_column(self):
        d = temp_dir(self)
        bad = os.path.join(d, "bad.csv")
        with open(f"{SHARED}/datasets/csv/cardio.csv") as f:
            lines = f.read().splitlines(keepends=True)
        fields = lines[1500].split(",")
        fields[3] = "oops"
        lines[1500] = ",".join(fields)
        with open(bad, "w") as f:
            f.write("".join(lines))
        config = write_config(d, bad, label="label")
        r = hpcad(["run", "--config", config], 3)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("bad.csv", r.stderr)
        self.assertIn("1501", r.stderr)  # physical line in the file (header is line 1)
        self.assertIn("f3", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "scores.h5")))
        # With skip_bad_rows the row is dropped and counted.
        r = hpcad(["run", "--config", config, "--set", "input.skip_bad_rows=true"], 3)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(scores_of(os.path.join(d, "scores.h5"))), len(lines) - 2)

    def test_selecting_a_missing_column_is_a_clear_error(self):
        d = temp_dir(self)
        config = write_config(d, f"{SHARED}/datasets/parquet/cardio.snappy.parquet", label="label")
        r = hpcad(["run", "--config", config, "--set", 'input.columns=["f0", "nope"]'], 2)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nope", r.stderr)
        self.assertIn("cardio.snappy.parquet", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
