"""Reference side of bench/churn.ts: fits scikit-learn's LogisticRegression
(after StandardScaler, C=1) and HistGradientBoostingClassifier on the data
sets and splits that bench/churn.ts wrote, and prints one JSON object on
stdout.

    /usr/bin/python3 bench/churn-sklearn.py MANIFEST.json

The manifest lists data sets as raw little-endian files (X float64
row-major, y uint8, train / test int32) so both sides see bit-identical
inputs and split. It also carries the Telco labels' own
train_test_split(stratify=y, random_state=42) check: bench/churn.ts's split
must be the same rows.
"""
import json
import os
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def main() -> None:
    manifest_path = sys.argv[1]
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    base = os.path.dirname(manifest_path)

    def load(name: str, dtype: str) -> np.ndarray:
        return np.fromfile(os.path.join(base, name), dtype=dtype)

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the single-thread timing is then left out
        threadpool_limits = None

    results = []
    for data in manifest["datasets"]:
        X = load(data["x"], "<f8").reshape(data["rows"], data["cols"])
        y = load(data["y"], "u1").astype(np.int64)
        train = load(data["train"], "<i4")
        test = load(data["test"], "<i4")
        entry = {"dataset": data["name"], "models": []}
        if data.get("checkSplit"):
            # The split bench/churn.ts made with our stratifiedSplit, against
            # sklearn's own on the same labels (order included).
            index = np.arange(len(y))
            sk_train, sk_test = train_test_split(index, test_size=data["testShare"], stratify=y, random_state=data["seed"])
            entry["splitIdentical"] = bool(np.array_equal(sk_train, train) and np.array_equal(sk_test, test))
        X_train, y_train = X[train], y[train]
        X_test, y_test = X[test], y[test]
        for spec in data["models"]:

            def gbdt() -> HistGradientBoostingClassifier:
                return HistGradientBoostingClassifier(
                    learning_rate=spec["learningRate"],
                    max_iter=spec["iterations"],
                    max_leaf_nodes=spec["maxLeafNodes"],
                    min_samples_leaf=spec["minSamplesLeaf"],
                    l2_regularization=spec["l2"],
                    early_stopping=False,
                    random_state=0,
                )

            runs = [("default", None)]
            if spec.get("singleThread") and threadpool_limits is not None:
                runs.append(("1 thread", 1))
            for label, limit in runs:
                if spec["kind"] == "logistic":
                    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
                else:
                    model = gbdt()
                started = time.perf_counter()
                if limit is None:
                    model.fit(X_train, y_train)
                else:
                    with threadpool_limits(limits=limit):
                        model.fit(X_train, y_train)
                seconds = time.perf_counter() - started
                scores = model.predict_proba(X_test)[:, 1]
                result = {
                    "name": spec["name"],
                    "threads": label,
                    "auc": float(roc_auc_score(y_test, scores)),
                    "seconds": seconds,
                }
                if limit is None and spec["kind"] == "gbdt" and spec.get("columnOrders", 0) > 0:
                    # The same fit with the columns in other orders: equally
                    # good splits (mirror one-hot columns) then fall the other
                    # way, which shows how far tie-breaking alone moves AUC.
                    spread = [result["auc"]]
                    for order_seed in range(1, 1 + spec["columnOrders"]):
                        order = np.random.RandomState(order_seed).permutation(X.shape[1])
                        other = gbdt().fit(X_train[:, order], y_train)
                        spread.append(float(roc_auc_score(y_test, other.predict_proba(X_test[:, order])[:, 1])))
                    result["columnOrderAucs"] = spread
                entry["models"].append(result)
        results.append(entry)
    json.dump({"sklearn": sklearn.__version__, "numpy": np.__version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
