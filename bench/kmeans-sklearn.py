"""Reference fits for bench/kmeans.ts: scikit-learn's KMeans on the same data.

Reads an n×d matrix of raw little-endian float64 values, fits KMeans with the
settings given, and prints one JSON line per fit: {inertia, seconds, n_iter}.
Only `fit` is timed; reading the file and importing scikit-learn are not.

    python3 bench/kmeans-sklearn.py FILE --n N --d D --k K --n-init R \
        [--max-iter 300] [--tol 1e-4] [--seed 1] [--algorithm lloyd] [--repeat 3]
"""
import argparse
import json
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--d", type=int, required=True)
    parser.add_argument("--k", type=int, required=True)
    parser.add_argument("--n-init", type=int, required=True)
    parser.add_argument("--max-iter", type=int, default=300)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--algorithm", choices=["lloyd", "elkan"], default="lloyd")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    try:
        import numpy as np
        import sklearn
        from sklearn.cluster import KMeans
    except ImportError as error:
        print(json.dumps({"error": f"scikit-learn is not importable: {error}"}))
        return 2

    x = np.fromfile(args.file, dtype="<f8")
    if x.size != args.n * args.d:
        print(json.dumps({"error": f"{args.file} holds {x.size} values, expected {args.n} x {args.d}"}))
        return 2
    x = x.reshape(args.n, args.d)

    for run in range(args.repeat):
        model = KMeans(
            n_clusters=args.k,
            n_init=args.n_init,
            max_iter=args.max_iter,
            tol=args.tol,
            algorithm=args.algorithm,
            # A different seed per run, as our runs of the same seed would only
            # repeat one fit: the median is then over starts, not over noise alone.
            random_state=args.seed + run,
        )
        start = time.perf_counter()
        model.fit(x)
        seconds = time.perf_counter() - start
        print(
            json.dumps(
                {
                    "inertia": float(model.inertia_),
                    "seconds": seconds,
                    "n_iter": int(model.n_iter_),
                    "algorithm": args.algorithm,
                    "sklearn": sklearn.__version__,
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
