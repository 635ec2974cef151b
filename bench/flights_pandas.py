"""The flights workload written by hand in pandas: the peer that bench/flights.ts compares
Ouro's recipe jobs with. One process, one pass, each library's natural defaults.

    python bench/flights_pandas.py FLIGHTS.parquet AIRPORTS.csv OUT.parquet

Prints one JSON object: per-phase wall times (ms), the whole work's wall and CPU time, and
peak RSS from getrusage (ru_maxrss, KiB on Linux: the kernel's high-water mark, so nothing is
missed between samples). Exits 3 with {"skip": reason} when pandas or pyarrow is missing.
"""
import json
import resource
import sys
import time

try:
    import pandas as pd
    import pyarrow  # noqa: F401  (read_parquet and to_parquet need it)
except ImportError as err:
    print(json.dumps({"skip": f"pandas/pyarrow not importable: {err}"}))
    sys.exit(3)


def main() -> None:
    flights_file, airports_file, out = sys.argv[1:4]
    phases: dict[str, float] = {}
    cpu0 = time.process_time()
    start = last = time.perf_counter()

    def mark(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        phases[name] = (now - last) * 1000
        last = now

    flights = pd.read_parquet(flights_file)
    # keep_default_na=False: an airport code or state such as "NA" is a value, not a null.
    airports = pd.read_csv(airports_file, usecols=["iata", "state"], keep_default_na=False)
    mark("read")
    df = flights.merge(airports.rename(columns={"iata": "origin"}), on="origin", how="left")
    mark("join")
    df["date_month"] = df["date"].dt.month
    df["date_hour"] = df["date"].dt.hour
    mark("derive")
    df["state"] = df["state"].fillna("unknown")
    df["delay"] = df["delay"].fillna(df["delay"].mean())
    mark("fillNull")
    dummies = pd.get_dummies(df["state"], prefix="state")
    df = pd.concat([df, dummies], axis=1)
    mark("oneHot")
    aggs = {
        "flights": ("delay", "count"),
        "delay_mean": ("delay", "mean"),
        "distance_mean": ("distance", "mean"),
        "date_hour_mean": ("date_hour", "mean"),
        **{f"{c}_max": (c, "max") for c in dummies.columns},
    }
    result = df.groupby(["state", "date_month"], sort=True).agg(**aggs).reset_index()
    mark("groupBy")
    result.to_parquet(out, compression="zstd", index=False)
    mark("write")

    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "phases": phases,
        "workMs": (time.perf_counter() - start) * 1000,
        "cpuMs": (time.process_time() - cpu0) * 1000,
        "maxRssKb": usage.ru_maxrss,
        "rows": int(len(result)),
        "versions": {"pandas": pd.__version__, "pyarrow": pyarrow.__version__, "python": sys.version.split()[0]},
    }))


if __name__ == "__main__":
    main()
