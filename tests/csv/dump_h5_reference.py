"""Dumps /X and /y of ADBench HDF5 files as raw little-endian float64 for the CSV reader tests.

Usage: dump_h5_reference.py OUT_DIR FILE.h5...
Writes OUT_DIR/NAME.X.f64 (row-major), NAME.y.f64 and NAME.shape ("rows cols").
Run with Debian's /usr/bin/python3 (python3-h5py), independently of the reader under test.
"""
import os
import sys

import h5py
import numpy as np


def main() -> None:
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for path in sys.argv[2:]:
        name = os.path.splitext(os.path.basename(path))[0]
        with h5py.File(path, "r") as f:
            x = np.ascontiguousarray(f["X"][...], dtype="<f8")
            y = np.ascontiguousarray(f["y"][...], dtype="<f8")
        x.tofile(os.path.join(out_dir, name + ".X.f64"))
        y.tofile(os.path.join(out_dir, name + ".y.f64"))
        with open(os.path.join(out_dir, name + ".shape"), "w") as s:
            s.write(f"{x.shape[0]} {x.shape[1]}\n")


if __name__ == "__main__":
    main()
