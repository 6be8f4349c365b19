"""Reference side of bench/tree.ts: fits scikit-learn's DecisionTreeClassifier
on the data sets and hold-out splits that bench/tree.ts wrote, with the same
limits, and prints one JSON object on stdout.

    /usr/bin/python3 bench/tree-sklearn.py MANIFEST.json

The manifest lists data sets as raw little-endian files (X float64 row-major,
y / train / test int32) so both sides see bit-identical inputs and split.
"""
import json
import os
import sys
import time

import numpy as np
import sklearn
from sklearn.tree import DecisionTreeClassifier


def main() -> None:
    manifest_path = sys.argv[1]
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    base = os.path.dirname(manifest_path)

    def load(name: str, dtype: str) -> np.ndarray:
        return np.fromfile(os.path.join(base, name), dtype=dtype)

    results = []
    for data in manifest["datasets"]:
        X = load(data["x"], "<f8").reshape(data["rows"], data["cols"])
        y = load(data["y"], "<i4")
        train = load(data["train"], "<i4")
        test = load(data["test"], "<i4")
        X_train, y_train = X[train], y[train]
        for config in data["configs"]:

            def tree(random_state: int) -> DecisionTreeClassifier:
                return DecisionTreeClassifier(
                    criterion="gini",
                    max_depth=config["maxDepth"],
                    min_samples_leaf=config["minSamplesLeaf"],
                    min_samples_split=config["minSamplesSplit"],
                    ccp_alpha=config["ccpAlpha"],
                    random_state=random_state,
                )

            # random_state 0 is the reference; it fixes the order in which
            # sklearn meets equally good splits, and so its tree.
            model = tree(0)
            started = time.perf_counter()
            model.fit(X_train, y_train)
            seconds = time.perf_counter() - started
            accuracy = float((model.predict(X[test]) == y[test]).mean())
            # Other random_states show how far tie-breaking alone moves
            # sklearn, the yardstick for a gap between the two sides.
            spread = [accuracy]
            for random_state in range(1, 1 + data["spreadStates"]):
                other = tree(random_state).fit(X_train, y_train)
                spread.append(float((other.predict(X[test]) == y[test]).mean()))
            results.append(
                {
                    "dataset": data["name"],
                    "config": config["name"],
                    "accuracy": accuracy,
                    "leaves": int(model.get_n_leaves()),
                    "depth": int(model.get_depth()),
                    "seconds": seconds,
                    "spreadStates": len(spread),
                    "spreadMin": min(spread),
                    "spreadMax": max(spread),
                }
            )
    json.dump({"sklearn": sklearn.__version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
