"""Dumps /X and /y of ADBench HDF5 files for the Parquet dataset test (via h5py).

usage: dump_h5.py OUT_DIR H5_DIR NAME...
Writes NAME.shape ("rows cols"), NAME.X.f64 (row-major little-endian float64) and
NAME.y.f64 (labels as float64)."""
import os
import sys

import h5py
import numpy as np

out_dir, h5_dir, names = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out_dir, exist_ok=True)
for name in names:
    with h5py.File(os.path.join(h5_dir, name + ".h5"), "r") as f:
        x = np.ascontiguousarray(f["X"][...], dtype="<f8")
        y = np.ascontiguousarray(f["y"][...].reshape(-1), dtype="<f8")
    x.tofile(os.path.join(out_dir, name + ".X.f64"))
    y.tofile(os.path.join(out_dir, name + ".y.f64"))
    with open(os.path.join(out_dir, name + ".shape"), "w") as s:
        s.write(f"{x.shape[0]} {x.shape[1]}\n")
