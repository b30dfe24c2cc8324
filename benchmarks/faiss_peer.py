"""FAISS as a peer of findthis's indexes in `npm run bench:index` (benchmarks/lib/faiss-peer.ts runs it).

usage: /usr/bin/python3 benchmarks/faiss_peer.py BASE.npy QUERIES.npy SPEC.json OUT.json

BASE and QUERIES are L2-normalised float32 rows (written by benchmarks/lib/npy.ts). SPEC says what to
run: {"k", "runs", "warmup", "hnsw": {"M", "efConstruction", "efSearch": [...]},
"ivf": {"nlist", "trainRows", "nprobe": [...]}}. One thread, one query at a time (as findthis is measured), inner
product (= cosine on unit rows). OUT gets one row per setting: index, params, build seconds, the
queries/s of each run, every latency of every run in ms, and the neighbours of the first run (row
numbers into BASE) so the caller scores recall against its own exact answer.
"""
import json
import sys
import time

import faiss
import numpy as np


def timed_queries(index, queries, k, runs, warmup):
    for q in range(min(warmup, len(queries))):
        index.search(queries[q:q + 1], k)
    qps, latencies, neighbours = [], [], None
    for run in range(runs):
        found = np.empty((len(queries), k), dtype=np.int64)
        started = time.perf_counter()
        for q in range(len(queries)):
            t0 = time.perf_counter()
            _, ids = index.search(queries[q:q + 1], k)
            latencies.append((time.perf_counter() - t0) * 1000)
            found[q] = ids[0]
        qps.append(len(queries) / (time.perf_counter() - started))
        if neighbours is None:
            neighbours = found.tolist()
    return {"qps": qps, "latenciesMs": latencies, "neighbours": neighbours}


def main():
    base_path, queries_path, spec_path, out_path = sys.argv[1:5]
    faiss.omp_set_num_threads(1)
    base = np.ascontiguousarray(np.load(base_path), dtype=np.float32)
    queries = np.ascontiguousarray(np.load(queries_path), dtype=np.float32)
    with open(spec_path) as f:
        spec = json.load(f)
    k, runs, warmup = spec["k"], spec["runs"], spec["warmup"]
    n, dim = base.shape
    rows = []

    def progress(text):
        sys.stderr.write(f"  faiss {text}\n")
        sys.stderr.flush()

    def build(make, train_rows=0):
        started = time.perf_counter()
        index = make()
        if train_rows:
            index.train(base[:train_rows])
        index.add(base)
        return index, time.perf_counter() - started

    progress("flat build")
    flat, seconds = build(lambda: faiss.IndexFlatIP(dim))
    progress("flat queries")
    rows.append({"index": "faiss-flat", "params": {}, "buildSeconds": seconds, **timed_queries(flat, queries, k, runs, warmup)})
    del flat

    hnsw_spec = spec.get("hnsw")
    if hnsw_spec:
        M, ef_construction = hnsw_spec["M"], hnsw_spec["efConstruction"]
        progress(f"hnsw build M={M} efConstruction={ef_construction} (n={n})")

        def make_hnsw():
            index = faiss.IndexHNSWFlat(dim, M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = ef_construction
            return index

        hnsw, seconds = build(make_hnsw)
        for ef in hnsw_spec["efSearch"]:
            progress(f"hnsw efSearch={ef}")
            hnsw.hnsw.efSearch = ef
            rows.append({"index": "faiss-hnsw", "params": {"M": M, "efConstruction": ef_construction, "efSearch": ef},
                         "buildSeconds": seconds, **timed_queries(hnsw, queries, k, runs, warmup)})
        del hnsw

    ivf_spec = spec.get("ivf")
    if ivf_spec:
        nlist, train_rows = ivf_spec["nlist"], min(n, ivf_spec["trainRows"])
        progress(f"ivf-flat train on {train_rows} rows + build nlist={nlist}")
        quantizer = faiss.IndexFlatIP(dim)
        ivf, seconds = build(lambda: faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT), train_rows)
        for nprobe in ivf_spec["nprobe"]:
            progress(f"ivf-flat nprobe={nprobe}")
            ivf.nprobe = nprobe
            rows.append({"index": "faiss-ivf-flat", "params": {"nlist": nlist, "nprobe": nprobe},
                         "buildSeconds": seconds, **timed_queries(ivf, queries, k, runs, warmup)})

    with open(out_path, "w") as f:
        json.dump({"faiss": faiss.__version__, "rows": rows}, f)


if __name__ == "__main__":
    main()
