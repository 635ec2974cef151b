"""The drift benchmark's baseline (bench/drift.ts spawns it): scipy's ks_2samp plus numpy
histograms for PSI and Jensen-Shannon, on the same float64 files Ouro reads.

    python bench/drift_scipy.py <dir> <rows> <features> <bins> <repeat>

Prints one JSON line: per-repeat wall-clock and CPU seconds of the work (data already in
memory) and the statistics of every feature, which bench/drift.ts compares with its own."""
import json, sys, time
import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

folder, rows, features, bins, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
ref = np.fromfile(f"{folder}/ref.f64", dtype=np.float64).reshape(features, rows)
cur = np.fromfile(f"{folder}/cur.f64", dtype=np.float64).reshape(features, rows)

def drift(r, c):
    ks = stats.ks_2samp(r, c)  # method="auto": asymptotic at these sizes
    edges = np.linspace(r.min(), r.max(), bins + 1)
    # Out-of-range current values go to the end bins, as Ouro's profiles count them.
    hr, _ = np.histogram(r, edges)
    hc, _ = np.histogram(np.clip(c, edges[0], edges[-1]), edges)
    p, q = hr / hr.sum(), hc / hc.sum()
    pp, qq = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
    psi = float(((qq - pp) * np.log(qq / pp)).sum())
    js = float(jensenshannon(p, q, base=2))
    return {"ks": float(ks.statistic), "p": float(ks.pvalue), "psi": psi, "js": js}

times, cpu, result = [], [], None
for _ in range(repeat):
    t, c = time.perf_counter(), time.process_time()
    result = [drift(ref[f], cur[f]) for f in range(features)]
    times.append(time.perf_counter() - t)
    cpu.append(time.process_time() - c)
print(json.dumps({"seconds": times, "cpuSeconds": cpu, "features": result}))
