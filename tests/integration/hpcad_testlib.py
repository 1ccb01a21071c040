"""Helpers for integration tests: run the real hpcad binary (alone or under mpiexec)."""
import os
import subprocess
import tempfile
import unittest

HPCAD = os.environ["HPCAD_BIN"]
SOURCE_DIR = os.environ["HPCAD_SOURCE_DIR"]
SHARED = os.environ["HPCAD_SHARED_DIR"]
MPIEXEC = os.environ.get("HPCAD_MPIEXEC", "mpiexec")
TIMEOUT = 300  # a deadlock fails the test instead of hanging it


def hpcad(args, ranks=None, cwd=None):
    """Runs hpcad; returns CompletedProcess with text stdout/stderr."""
    cmd = [HPCAD] + args
    if ranks is not None:
        cmd = [MPIEXEC, "--oversubscribe", "-n", str(ranks)] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd)


def write_config(directory, input_path, extra="", label="y", contamination=0.03, seed=42, input_extra="",
                 **sections):
    lines = [
        "[input]",
        f'path = "{input_path}"',
        f'label = "{label}"' if label else "",
        input_extra,
        "[detector]",
        'type = "iforest"',
        f"seed = {seed}",
        "[threshold]",
        f"contamination = {contamination}",
        "[output]",
        f'path = "{directory}/scores.h5"',
        f'model = "{directory}/model.h5"',
        f'report = "{directory}/report.json"',
        "[run]",
        'log_level = "quiet"',
        extra,
    ]
    path = os.path.join(directory, "job.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def temp_dir(test):
    d = tempfile.TemporaryDirectory(prefix="hpcad-it-")
    test.addCleanup(d.cleanup)
    return d.name


class HpcadTestCase(unittest.TestCase):
    def run_ok(self, args, ranks=None):
        """Runs hpcad and fails the test, with its stderr, unless it exits 0."""
        r = hpcad(args, ranks)
        self.assertEqual(r.returncode, 0, f"hpcad {' '.join(args)} failed:\n{r.stderr}")
        return r

    def run_failing(self, args, ranks=None):
        """Runs hpcad and fails the test unless it exits non-zero with one error message."""
        r = hpcad(args, ranks)
        self.assertNotEqual(r.returncode, 0, f"hpcad {' '.join(args)} succeeded")
        self.assertEqual(r.stderr.count("hpcad: error"), 1, r.stderr)
        return r
