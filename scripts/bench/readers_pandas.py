"""Python side of scripts/bench/readers (run with /usr/bin/python3: Debian's numpy/h5py/pandas).

  readers_pandas.py write-csv DATA.h5 OUT.csv
      Writes /X (rows x features, float64) as columns f0..f{D-1} with 17 significant digits
      ("%.17g", round-trips every double) and /y as an integer column `label`.
  readers_pandas.py read FILE.csv
      Times one pandas.read_csv(FILE) call (default C engine and float parser; import not
      timed) and prints one JSON line {read_s, import_s, rows, cols, pandas}.
"""
import json
import os
import sys
import time


def write_csv(h5_path, out_path):
    import h5py
    import numpy as np

    with h5py.File(h5_path, "r") as f:
        x = f["X"][...]
        y = f["y"][...].astype(np.int64) if "y" in f else np.zeros(x.shape[0], dtype=np.int64)
    d = x.shape[1]
    fmt = ",".join(["%.17g"] * d) + ",%d"
    tmp = out_path + ".partial"
    with open(tmp, "w") as out:
        out.write(",".join(f"f{j}" for j in range(d)) + ",label\n")
        step = 65536
        for start in range(0, x.shape[0], step):
            block = x[start:start + step]
            lab = y[start:start + step]
            out.write("\n".join(fmt % (*row, l) for row, l in zip(block.tolist(), lab.tolist())))
            out.write("\n")
    os.replace(tmp, out_path)


def read_csv(path):
    t0 = time.perf_counter()
    import pandas as pd
    t1 = time.perf_counter()
    df = pd.read_csv(path)
    t2 = time.perf_counter()
    print(json.dumps({"read_s": t2 - t1, "import_s": t1 - t0, "rows": int(df.shape[0]),
                      "cols": int(df.shape[1]), "pandas": pd.__version__,
                      "dtypes": sorted({str(t) for t in df.dtypes})}))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "write-csv":
        write_csv(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "read":
        read_csv(sys.argv[2])
    else:
        sys.exit(__doc__)
