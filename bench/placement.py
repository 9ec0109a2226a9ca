"""Placement latency over 20 regions with every built-in pack: cold (first decision of each class) and warm.

Run: .venv/bin/python bench/placement.py   (no database: an estate of 20 regions built in memory)
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import os  # noqa: E402

import benchdb  # noqa: E402

# The shared decision store (policy/shared.py) lives in a database: this bench's own SQLite file, never the one
# DATABASE_URL names.
os.environ.pop("DATABASE_URL", None)
os.environ["SOUVERAIN_DATA_DIR"] = benchdb.temp_data_dir()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
import django  # noqa: E402

django.setup()

from souverain.estate import estatefile, snapshot  # noqa: E402
from souverain.policy import placement, services  # noqa: E402
from souverain.policy.engine import Engine  # noqa: E402
from souverain.sovereignty.kb import packaged  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ON = dt.date(2026, 11, 25)


def twenty_region_estate(kb):  # noqa: ANN001, ANN201
    doc = estatefile.load(ROOT / "examples/estate/souverain.yaml", kb)
    estate = snapshot.from_document(doc)
    clouds = list(estate.clouds.values())
    i = 0
    while len(estate.regions()) < 20:
        cloud = clouds[i % len(clouds)]
        base = next(iter(cloud.regions.values()))
        copy = snapshot.RegionData(id=f"{base.id}-x{i}", name=base.name, datacenters=list(base.datacenters),
                                   backup_datacenters=list(base.backup_datacenters),
                                   certifications=list(base.certifications))
        cloud.regions[copy.id] = copy
        i += 1
    return estate


WORKLOADS = [
    {"data_classes": ["diffusion_restreinte"]},
    {"data_classes": ["health", "personal"]},
    {"data_classes": ["personal"], "safeguards": [{"country": "US", "mechanism": "scc"}]},
    {"data_classes": ["public"], "requirements": {"eu_only": True, "eucs_level": "high"}},
    {"data_classes": ["special_category"], "requirements": {"no_exposure_to": ["us-cloud-act"]}},
    {"data_classes": ["critical_operator"], "requirements": {"customer_held_keys": True}},
]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    kb = packaged()
    estate = twenty_region_estate(kb)
    engine = Engine()
    context = placement.build_context(estate, kb, ON, token="bench")
    print(f"regions: {len(context.cases)}, packs: {engine.packs}")
    engine.decide(placement.policy_input(services.merge([WORKLOADS[0]]), context.cases[0].profile,
                                         context.kb_input, ON))  # compile the bundle once
    cold, warm = [], []
    for rnd in range(3):
        engine.cache.invalidate()
        for w in WORKLOADS:
            workload = {**w, "name": f"r{rnd}"}
            start = time.perf_counter()
            services.place(workload, ON, estate=estate, kb=kb, engine=engine, use_tenant_defaults=False)
            cold.append(time.perf_counter() - start)
        for _ in range(50):
            for w in WORKLOADS:
                start = time.perf_counter()
                services.place(w, ON, estate=estate, kb=kb, engine=engine, use_tenant_defaults=False)
                warm.append(time.perf_counter() - start)
    # The warm path above rebuilds region profiles (an estate file has no change counter); the server's
    # path reuses them by (estate token, date), as the cached-context figures below do.
    cached = []
    for _ in range(50):
        for w in WORKLOADS:
            start = time.perf_counter()
            merged = services.merge([w])
            results = placement.decide_all(merged, context.cases, context, ON, engine)
            placement.rank(merged, results)
            cached.append(time.perf_counter() - start)
    ms = 1000
    print(f"cold placement (20 regions, first decision of each class): p50 {statistics.median(cold) * ms:.1f} ms"
          f"  p99 {pct(cold, 0.99) * ms:.1f} ms  (per region decision: {statistics.median(cold) * ms / 20:.2f} ms)")
    print(f"warm placement, profiles rebuilt from the estate file: p50 {statistics.median(warm) * ms:.2f} ms"
          f"  p99 {pct(warm, 0.99) * ms:.2f} ms")
    print(f"warm placement, cached context (server path): p50 {statistics.median(cached) * ms:.3f} ms"
          f"  p99 {pct(cached, 0.99) * ms:.3f} ms")
    print(f"decision cache: {engine.cache.hits} hits, {engine.cache.misses} misses, {len(engine.cache)} decisions")
    shared_store(estate, kb)


def shared_store(estate, kb) -> None:  # noqa: ANN001
    """A class another process decided: a new engine (empty in-memory cache) reading the shared store."""
    from django.core.management import call_command

    from souverain.policy.shared import DatabaseDecisions

    call_command("migrate", verbosity=0)
    store = DatabaseDecisions()
    context = placement.build_context(estate, kb, ON, token="bench-shared")
    writer = Engine()
    for w in WORKLOADS:
        placement.decide_all(services.merge([w]), context.cases, context, ON, writer, store)
    writer.close()
    times = []
    for _ in range(5):
        reader = Engine()
        for w in WORKLOADS:
            start = time.perf_counter()
            merged = services.merge([w])
            placement.rank(merged, placement.decide_all(merged, context.cases, context, ON, reader, store))
            times.append(time.perf_counter() - start)
        assert reader.cache.misses == len(WORKLOADS) * len(context.cases)  # every one read from the store
        reader.close()
    ms = 1000
    print(f"class decided by another process (shared store, SQLite): p50 {statistics.median(times) * ms:.2f} ms"
          f"  p99 {pct(times, 0.99) * ms:.2f} ms")
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
