#!/usr/bin/python3
"""scikit-learn reference job for scripts/bench/iforest.

Reads the same HDF5 input as hpcad (dataset /X, float64 rows x features) with h5py, fits
IsolationForest(n_estimators=100, max_samples=256, random_state=0), scores every row with
-score_samples (hpcad's convention: higher = more anomalous, 2^(-E[h]/c(psi))) and writes
the scores to HDF5 dataset /score. Prints one JSON line with its per-phase wall times.

Run with Debian's interpreter (/usr/bin/python3), which sees python3-sklearn and
python3-h5py.
"""
import argparse
import json
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="HDF5 file with the feature matrix")
    parser.add_argument("--dataset", default="X", help="dataset name in --input (default X)")
    parser.add_argument("--output", required=True, help="HDF5 file to write /score to")
    parser.add_argument("--n-estimators", type=int, default=100)
    parser.add_argument("--max-samples", type=int, default=256)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=None, help="IsolationForest n_jobs (default: None = 1)")
    args = parser.parse_args()

    start = time.perf_counter()
    import h5py
    import numpy as np
    import sklearn
    from sklearn.ensemble import IsolationForest
    t_import = time.perf_counter()

    with h5py.File(args.input, "r") as f:
        X = f[args.dataset][...]
    t_read = time.perf_counter()

    forest = IsolationForest(
        n_estimators=args.n_estimators,
        max_samples=args.max_samples,
        random_state=args.random_state,
        n_jobs=args.n_jobs,
    )
    forest.fit(X)
    t_fit = time.perf_counter()

    scores = -forest.score_samples(X)
    t_score = time.perf_counter()

    with h5py.File(args.output, "w") as f:
        f.create_dataset("score", data=np.asarray(scores, dtype=np.float64))
        f.attrs["detector"] = "sklearn.ensemble.IsolationForest"
        f.attrs["sklearn_version"] = sklearn.__version__
        f.attrs["n_jobs"] = -999 if args.n_jobs is None else args.n_jobs
    t_write = time.perf_counter()

    print(json.dumps({
        "rows": int(X.shape[0]),
        "features": int(X.shape[1]),
        "n_jobs": args.n_jobs,
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "phases": {
            "import": t_import - start,
            "read": t_read - t_import,
            "fit": t_fit - t_read,
            "score": t_score - t_fit,
            "write": t_write - t_score,
        },
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
