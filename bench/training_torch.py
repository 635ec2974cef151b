"""The PyTorch CPU baseline of bench/training.ts: the same MLP 20-64-64-1 (ReLU, He-normal,
linear output, MSE regression), Adam lr 0.001, batch 256, 5 epochs, on the same Parquet file
(features x0..x19 standardised with training statistics, target y standardised, as the Ouro
library does). Prints one JSON line last. Usage: training_torch.py FILE [EPOCHS] [BATCH]"""
import json
import os
import resource
import sys
import time

try:
    import numpy as np
    import pyarrow.parquet as pq
    import torch
except Exception as e:  # no torch (or numpy/pyarrow): the caller prints the column as skipped
    print(json.dumps({"skip": f"not importable: {e}"}))
    sys.exit(0)


def read(path):
    t = pq.read_table(path)
    return {c: t.column(c).to_numpy() for c in t.column_names}


def main():
    path = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    threads = int(os.environ.get("BENCH_TORCH_THREADS", "0"))
    if threads > 0:
        torch.set_num_threads(threads)
    torch.manual_seed(42)
    cols = read(path)
    feats = sorted((c for c in cols if c.startswith("x")), key=lambda c: int(c[1:]))
    x = np.stack([cols[c] for c in feats], axis=1).astype(np.float32)
    y = cols["y"].astype(np.float32).reshape(-1, 1)
    x = (x - x.mean(0)) / x.std(0)
    y = (y - y.mean()) / y.std()
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    n = X.shape[0]
    model = torch.nn.Sequential(
        torch.nn.Linear(len(feats), 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 1),
    )
    for m in model:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = torch.nn.MSELoss()
    g = torch.Generator().manual_seed(42)
    t0 = time.perf_counter()
    losses = []
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        total = 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss = lossf(model(X[idx]), Y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / n)
    ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({
        "rows": n, "epochs": epochs, "batch": batch, "trainingMs": ms,
        "rowsPerSecond": epochs * n / (ms / 1000), "epochsPerSecond": epochs / (ms / 1000),
        "lossFirst": losses[0], "lossLast": losses[-1],
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "maxRssKb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    main()
