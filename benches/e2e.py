#!/usr/bin/env python3
"""End-to-end timings of the `karpsim` command for every row of issue 16's table.

Each run is a whole process timed from the parent (start-up, reading and parsing the files, building
the cluster state, the solve, printing the result, exit), as a user runs it. The inputs are generated
into target/e2e-inputs/ on first use (deterministic, from a seed):

- Karpenter's scheduling benchmark shape: its 400 fake instance types as a custom catalog file
  (`fake-it-i`: cpu i+1, memory 2(i+1) GiB, price 0.1·cpu + 0.1·GB), one NodePool with its huge
  limits, and `makeDiversePods(n)`: five fifths (generic, zonal spread, hostname spread, zonal pod
  affinity, hostname anti-affinity) with requests drawn from Karpenter's lists. The draws come from
  Python's `random`, so the pods are the same kinds and distributions as the criterion benches'
  (`karpsim::fixtures`), not the same individual pods;
- the same pods on the embedded `aws:us-east-1` catalog (a NodePool without requirements: every type);
- `makePreferencePods(4000)`: preferred zone, preferred anti-affinity on zone and hostname;
- 10,000 pods with required hostname anti-affinity against each other (one node each);
- clusters of n nodes of the fake catalog (types 1..16, three zones, on-demand, 4 bound pods taking
  10-60% of the node) for `consolidate --until-stable`, and the same with a NodePool template label the
  nodes lack (every node drifted), also with two DaemonSet pods on every node (a DaemonSet pod goes
  with its node: every drift round removes pods);
- one Deployment of 1,000,000 replicas (peak memory).

    python3 benches/e2e.py                      # every row, 5 runs each (long rows fewer), native binary
    python3 benches/e2e.py --only shape_5000 --runs 9
    python3 benches/e2e.py --pip .venv/bin/karpsim   # also the pip-installed command where the table asks

Prints min / median / max wall time and peak resident memory per row, and writes target/e2e.json, which
benches/report.py puts into docs/benchmarks.md. Rows slower than --timeout seconds are stopped and
reported as such. Needs the release binary (`cargo build --release -p karpsim-cli`).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
INPUTS = ROOT / "target" / "e2e-inputs"
OUT = ROOT / "target" / "e2e.json"
GI = 1 << 30
MI = 1 << 20


# ---------------------------------------------------------------- inputs

def fake_catalog(n: int = 400) -> dict:
    """Karpenter's `fake.InstanceTypes(n)` as karpsim's custom catalog (`karpsim::fixtures::karpenter_catalog`)."""
    types = []
    for i in range(n):
        cpu, mem_gi = i + 1, 2 * (i + 1)
        price = 0.1 * cpu + 0.1 * mem_gi * GI / 1e9
        offerings = [
            {"zone": z, "capacity_type": c, "price": price}
            for z, c in (("test-zone-1", "spot"), ("test-zone-2", "spot"), ("test-zone-1", "on-demand"),
                         ("test-zone-2", "on-demand"), ("test-zone-3", "on-demand"))
        ]
        types.append({
            "name": f"fake-it-{i}",
            "capacity": {"cpu": str(cpu), "memory": f"{mem_gi}Gi", "pods": str(10 * cpu)},
            "overhead": {"cpu": "100m", "memory": "10Mi"},
            "labels": {"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"},
            "offerings": offerings,
        })
    return {"instance_types": types}


def nodepool(limits: bool = True, template_labels: dict | None = None, aws: bool = False) -> list[dict]:
    spec: dict = {"template": {"spec": {"requirements": []}}}
    if aws:
        spec["template"]["spec"]["nodeClassRef"] = {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}
    if template_labels:
        spec["template"]["metadata"] = {"labels": template_labels}
    if limits:
        spec["limits"] = {"cpu": "10000000", "memory": "10000000Gi"}
    out = [{"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "default"}, "spec": spec}]
    if aws:
        out.append({"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass", "metadata": {"name": "default"},
                    "spec": {"amiSelectorTerms": [{"alias": "al2023@latest"}]}})
    return out


def pod(name: str, cpu_m: int, mem: int, labels: dict, spec_extra: dict | None = None) -> dict:
    spec = {"containers": [{"name": "c", "resources": {"requests": {"cpu": f"{cpu_m}m", "memory": str(mem)}}}]}
    spec.update(spec_extra or {})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "uid": name, "labels": labels}, "spec": spec}


def term(key: str, value: str, topology_key: str) -> dict:
    return {"labelSelector": {"matchLabels": {key: value}}, "topologyKey": topology_key}


def diverse_pods(n: int, seed: int = 42) -> list[dict]:
    """`makeDiversePods(n)`: five equal fifths, the remainder generic (`karpsim::fixtures::diverse_pods`)."""
    rng = random.Random(seed)
    label = lambda: rng.choice("abcdefg")  # noqa: E731
    cpu = lambda: rng.choice([100, 250, 500, 1000, 1500])  # noqa: E731
    mem = lambda: rng.choice([100, 256, 512, 1024, 2048, 4096]) * MI  # noqa: E731
    fifth = n // 5
    kinds = ["generic"] * fifth + ["zonal_spread"] * fifth + ["hostname_spread"] * fifth + ["zonal_affinity"] * fifth
    kinds += ["hostname_anti"] * fifth + ["generic"] * (n - 5 * fifth)
    out = []
    for i, kind in enumerate(kinds):
        name = f"pod-{i:06d}"
        if kind == "generic":
            labels, extra = {"my-label": label()}, {}
        elif kind in ("zonal_spread", "hostname_spread"):
            own, sel = label(), label()
            key = "topology.kubernetes.io/zone" if kind == "zonal_spread" else "kubernetes.io/hostname"
            labels = {"my-label": own}
            extra = {"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "DoNotSchedule",
                                                    "labelSelector": {"matchLabels": {"my-label": sel}}}]}
        elif kind == "zonal_affinity":
            v = label()
            labels = {"my-affininity": v}
            extra = {"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                term("my-affininity", v, "topology.kubernetes.io/zone")]}}}
        else:
            labels = {"app": "nginx"}
            extra = {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                term("app", "nginx", "kubernetes.io/hostname")]}}}
        out.append(pod(name, cpu(), mem(), labels, extra))
    return out


def preference_pods(n: int, seed: int = 42) -> list[dict]:
    """`makePreferencePods(n)` (`karpsim::fixtures::preference_pods`)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        affinity = {
            "nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {
                "matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["test-zone-1"]}]}}]},
            "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 10, "podAffinityTerm": term("app", "nginx", "topology.kubernetes.io/zone")},
                {"weight": 1, "podAffinityTerm": term("app", "nginx", "kubernetes.io/hostname")}]},
        }
        cpu = rng.choice([100, 250, 500, 1000, 1500])
        mem = rng.choice([100, 256, 512, 1024, 2048, 4096]) * MI
        out.append(pod(f"pref-{i:06d}", cpu, mem, {"app": "nginx"}, {"affinity": affinity}))
    return out


def anti_affinity_pods(n: int, seed: int = 42) -> list[dict]:
    """n pods that each need a node of their own (required hostname anti-affinity to each other)."""
    rng = random.Random(seed)
    extra = {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        term("app", "solo", "kubernetes.io/hostname")]}}}
    return [pod(f"solo-{i:06d}", rng.choice([100, 250, 500, 1000, 1500]), rng.choice([100, 256, 512, 1024]) * MI,
                {"app": "solo"}, extra) for i in range(n)]


def cluster(nodes: int, pods_per_node: int = 4, seed: int = 42, drifted: bool = False, daemonsets: int = 0) -> list[dict]:
    """A running cluster of the fake catalog (`karpsim::fixtures::karpenter_cluster`), as a snapshot;
    `daemonsets`: that many DaemonSet pods on every node too (50m, 64Mi each), as a real cluster has."""
    rng = random.Random(seed)
    zones = ["test-zone-1", "test-zone-2", "test-zone-3"]
    created = "2026-01-01T00:00:00Z"
    items: list[dict] = nodepool(limits=False, template_labels={"tier": "v2"} if drifted else None)
    for i in range(nodes):
        t = 1 + rng.randrange(16)  # fake-it-1..16: cpu 2..17
        cpu_m, mem = (t + 1) * 1000 - 100, 2 * (t + 1) * GI - 10 * MI  # allocatable: capacity less the overhead
        name = f"node-{i:05d}"
        labels = {"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": f"fake-it-{t}",
                  "topology.kubernetes.io/zone": zones[i % 3], "karpenter.sh/capacity-type": "on-demand",
                  "kubernetes.io/hostname": name, "karpenter.sh/nodepool": "default", "karpenter.sh/registered": "true",
                  "karpenter.sh/initialized": "true"}
        items.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels, "creationTimestamp": created},
                      "status": {"capacity": {"cpu": str(t + 1), "memory": f"{2 * (t + 1)}Gi", "pods": str(10 * (t + 1))},
                                 "allocatable": {"cpu": f"{cpu_m}m", "memory": str(mem), "pods": str(10 * (t + 1))},
                                 "conditions": [{"type": "Ready", "status": "True"}]}})
        share = 10 + rng.randrange(51)
        cpu_each = max(cpu_m * share // 100 // pods_per_node, 10)
        mem_each = max(mem * share // 100 // pods_per_node, MI)
        for j in range(pods_per_node):
            p = pod(f"bound-{i:05d}-{j:02d}", cpu_each, mem_each, {"app": "web"}, {"nodeName": name})
            p["metadata"]["creationTimestamp"] = created
            p["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "controller": True}]
            p["status"] = {"phase": "Running", "startTime": created, "conditions": [{"type": "Ready", "status": "True"}]}
            items.append(p)
        for d in range(daemonsets):
            p = pod(f"ds{d}-{i:05d}", 50, 64 * MI, {"app": f"ds{d}"}, {"nodeName": name})
            p["metadata"]["creationTimestamp"] = created
            p["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": f"ds{d}", "controller": True}]
            p["status"] = {"phase": "Running", "startTime": created, "conditions": [{"type": "Ready", "status": "True"}]}
            items.append(p)
    return items


def one_deployment(replicas: int) -> list[dict]:
    return nodepool(aws=True) + [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
                                   "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": {
                                       "metadata": {"labels": {"app": "web"}},
                                       "spec": {"containers": [{"name": "web", "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}}]}}}}]


def write(path: pathlib.Path, items: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))


def inputs() -> dict[str, pathlib.Path]:
    """Generate (once) every input; the file names carry their sizes, so a changed generator means a new name."""
    files = {
        "catalog": (INPUTS / "karpenter-catalog-400.json", lambda: fake_catalog()),
        "shape_1": (INPUTS / "shape-1.json", lambda: nodepool() + diverse_pods(1)),
        "shape_5000": (INPUTS / "shape-5000.json", lambda: nodepool() + diverse_pods(5_000)),
        "shape_20000": (INPUTS / "shape-20000.json", lambda: nodepool() + diverse_pods(20_000)),
        "shape_100000": (INPUTS / "shape-100000.json", lambda: nodepool() + diverse_pods(100_000)),
        "aws_1": (INPUTS / "aws-1.json", lambda: nodepool(aws=True) + diverse_pods(1)),
        "aws_5000": (INPUTS / "aws-5000.json", lambda: nodepool(aws=True) + diverse_pods(5_000)),
        "anti_10000": (INPUTS / "anti-affinity-10000.json", lambda: nodepool() + anti_affinity_pods(10_000)),
        "preferences_4000": (INPUTS / "preferences-4000.json", lambda: nodepool() + preference_pods(4_000)),
        "cluster_250": (INPUTS / "cluster-250.json", lambda: cluster(250)),
        "cluster_1000": (INPUTS / "cluster-1000.json", lambda: cluster(1_000)),
        "cluster_10000": (INPUTS / "cluster-10000.json", lambda: cluster(10_000)),
        "drifted_1000": (INPUTS / "drifted-1000.json", lambda: cluster(1_000, drifted=True)),
        "drifted_2000": (INPUTS / "drifted-2000.json", lambda: cluster(2_000, drifted=True)),
        "drifted_10000": (INPUTS / "drifted-10000.json", lambda: cluster(10_000, drifted=True)),
        "drifted_ds_1000": (INPUTS / "drifted-daemonsets-1000.json", lambda: cluster(1_000, drifted=True, daemonsets=2)),
        "drifted_ds_2000": (INPUTS / "drifted-daemonsets-2000.json", lambda: cluster(2_000, drifted=True, daemonsets=2)),
        "drifted_ds_10000": (INPUTS / "drifted-daemonsets-10000.json", lambda: cluster(10_000, drifted=True, daemonsets=2)),
        "deployment_1000000": (INPUTS / "deployment-1000000.json", lambda: one_deployment(1_000_000)),
    }
    for path, make in files.values():
        if not path.exists():
            doc = make()
            if isinstance(doc, list):
                write(path, doc)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(doc))
    return {k: p for k, (p, _) in files.items()}


# ---------------------------------------------------------------- rows

NOW = ["--now", "2026-01-01T02:00:00Z"]
JSON = ["-o", "json"]  # what a program reads; the table costs the same work


def rows(f: dict[str, pathlib.Path]) -> list[dict]:
    """Issue 16's table: name, the command's arguments, the target (seconds, or MiB for memory), runs."""
    cat = ["--catalog", str(f["catalog"])]
    return [
        {"row": "shape_5000", "what": "Karpenter's shape, 5,000 pods, its 400-type catalog", "target_s": 0.19, "pip": True,
         "argv": ["provision", "-f", str(f["shape_5000"]), *cat, *JSON]},
        {"row": "shape_20000", "what": "same, 20,000 pods", "target_s": 1.0,
         "argv": ["provision", "-f", str(f["shape_20000"]), *cat, *JSON]},
        {"row": "shape_100000", "what": "same, 100,000 pods", "target_s": 5.0, "runs": 3,
         "argv": ["provision", "-f", str(f["shape_100000"]), *cat, *JSON]},
        {"row": "aws_5000", "what": "same, 5,000 pods, embedded aws:us-east-1 (1,345 types)", "target_s": 0.4,
         "argv": ["provision", "-f", str(f["aws_5000"]), *JSON]},
        {"row": "aws_1", "what": "1 pod, aws:us-east-1", "target_s": 0.010, "pip": True,
         "argv": ["provision", "-f", str(f["aws_1"]), *JSON]},
        {"row": "anti_affinity_10000", "what": "10,000 pods with required hostname anti-affinity", "target_s": 1.0, "runs": 3,
         "argv": ["provision", "-f", str(f["anti_10000"]), *cat, *JSON]},
        {"row": "until_stable_250", "what": "`consolidate --until-stable`, 250 nodes", "target_s": None, "runs": 3,
         "argv": ["consolidate", "-f", str(f["cluster_250"]), *cat, "--until-stable", *NOW, *JSON]},
        {"row": "until_stable_1000", "what": "`consolidate --until-stable`, 1,000 nodes", "target_s": 2.0, "runs": 3,
         "argv": ["consolidate", "-f", str(f["cluster_1000"]), *cat, "--until-stable", *NOW, *JSON]},
        {"row": "until_stable_10000", "what": "`consolidate --until-stable`, 10,000 nodes", "target_s": 60.0, "runs": 1,
         "argv": ["consolidate", "-f", str(f["cluster_10000"]), *cat, "--until-stable", *NOW, *JSON]},
        {"row": "drifted_1000", "what": "until-stable, 1,000 drifted nodes", "target_s": None, "runs": 3,
         "argv": ["consolidate", "-f", str(f["drifted_1000"]), *cat, "--until-stable", *NOW, *JSON]},
        {"row": "drifted_2000", "what": "until-stable, 2,000 drifted nodes (growth from 1,000: linear is 2x)", "target_s": None, "runs": 1,
         "argv": ["consolidate", "-f", str(f["drifted_2000"]), *cat, "--until-stable", *NOW, *JSON]},
        {"row": "drifted_10000", "what": "until-stable, 10,000 drifted nodes", "target_s": None, "runs": 1,
         "argv": ["consolidate", "-f", str(f["drifted_10000"]), *cat, "--until-stable", *NOW, *JSON]},
        {"row": "drifted_ds_1000", "what": "until-stable, 1,000 drifted nodes with 2 DaemonSet pods each", "target_s": None, "runs": 3,
         "argv": ["consolidate", "-f", str(f["drifted_ds_1000"]), *cat, "--until-stable", *NOW, *JSON]},
        {"row": "drifted_ds_2000", "what": "until-stable, 2,000 drifted nodes with 2 DaemonSet pods each (linear is 2x of 1,000)", "target_s": None, "runs": 1,
         "argv": ["consolidate", "-f", str(f["drifted_ds_2000"]), *cat, "--until-stable", *NOW, *JSON]},
        {"row": "drifted_ds_10000", "what": "until-stable, 10,000 drifted nodes with 2 DaemonSet pods each (linear is 10x of 1,000)", "target_s": None, "runs": 1,
         "argv": ["consolidate", "-f", str(f["drifted_ds_10000"]), *cat, "--until-stable", *NOW, *JSON]},
        {"row": "simulate_large_diurnal", "what": "`simulate benches/scenarios/large-diurnal.yaml` (24 h)", "target_s": 10.0, "runs": 1,
         "argv": ["simulate", str(ROOT / "benches/scenarios/large-diurnal.yaml"), "-o", "json"]},
        {"row": "preferences_4000", "what": "preference-heavy 4,000 pods (Karpenter 11.66 s)", "target_s": 11.66 / 20,
         "argv": ["provision", "-f", str(f["preferences_4000"]), *cat, *JSON]},
        {"row": "deployment_1000000", "what": "peak memory, 1,000,000 pods in one Deployment", "target_mib": 1024, "runs": 1,
         "argv": ["provision", "-f", str(f["deployment_1000000"]), *JSON]},
    ]


# ---------------------------------------------------------------- timing

def run_once(cmd: list[str], timeout: float) -> tuple[float | None, float, float]:
    """Wall seconds (None when stopped at the timeout), peak resident MiB and CPU seconds (user +
    system, which other jobs on a shared machine inflate less than wall time) of one whole process.

    The wait for the process's exit blocks (a timer kills it at the timeout), so the wall time ends
    when the process does: no polling interval is added to it."""
    stderr = tempfile.TemporaryFile()  # a file, not a pipe: a long stderr cannot block the process
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr)
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, stop)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if timed_out.is_set():
        return None, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    if proc.returncode != 0:
        stderr.seek(0)
        sys.exit(f"{' '.join(cmd)} exited with {proc.returncode}: {stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def measure(exe: str, row: dict, runs: int, timeout: float) -> dict:
    n = min(runs, row.get("runs", runs))
    walls, rss, cpus = [], [], []
    run_once([exe, *row["argv"]], timeout) if n > 1 else None  # warm the page cache
    for _ in range(n):
        wall, mib, cpu = run_once([exe, *row["argv"]], timeout)
        rss.append(mib)
        if wall is None:
            return {"timed_out_s": timeout, "runs": len(walls) + 1, "peak_mib": max(rss)}
        walls.append(wall)
        cpus.append(cpu)
    return {"runs": n, "min_s": min(walls), "median_s": statistics.median(walls), "max_s": max(walls),
            "cpu_median_s": statistics.median(cpus), "peak_mib": max(rss)}


def show(name: str, r: dict) -> str:
    if "timed_out_s" in r:
        return f"{name:>24}: stopped after {r['timed_out_s']:.0f} s (peak {r['peak_mib']:.0f} MiB)"
    return (f"{name:>24}: median {r['median_s']:8.3f} s (min {r['min_s']:.3f}, max {r['max_s']:.3f}, {r['runs']} runs), "
            f"cpu {r['cpu_median_s']:.3f} s, peak {r['peak_mib']:.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per row (rows marked long take fewer)")
    ap.add_argument("--native", default=str(ROOT / "target" / "release" / "karpsim"))
    ap.add_argument("--pip", default=None, help="the pip-installed command, for the rows the table measures through it")
    ap.add_argument("--only", action="append", default=[], help="row name (repeatable); default every row")
    ap.add_argument("--timeout", type=float, default=300.0, help="stop a run after this many seconds")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--generate-only", action="store_true", help="write the inputs and stop")
    args = ap.parse_args()
    if args.generate_only:
        inputs()
        return
    if not pathlib.Path(args.native).exists():
        sys.exit(f"{args.native} not found (cargo build --release -p karpsim-cli)")
    # The inputs are generated by a child process: on Linux a process's peak RSS (ru_maxrss) counts
    # the memory of the parent it was forked from, so a parent that had just built a million pods
    # would report ~300 MiB as every row's peak.
    subprocess.run([sys.executable, __file__, "--generate-only"], check=True)
    files = inputs()
    table = rows(files)
    known = {r["row"] for r in table}
    for name in args.only:
        if name not in known:
            sys.exit(f"unknown row {name!r}; rows: {', '.join(sorted(known))}")
    results = {}
    for row in table:
        if args.only and row["row"] not in args.only:
            continue
        entry = {"what": row["what"], "target_s": row.get("target_s"), "target_mib": row.get("target_mib"),
                 "command": "karpsim " + " ".join(a.replace(str(ROOT) + "/", "") for a in row["argv"]),
                 "native": measure(args.native, row, args.runs, args.timeout)}
        print(show(row["row"], entry["native"]), flush=True)
        if args.pip and row.get("pip"):
            entry["pip"] = measure(args.pip, row, args.runs, args.timeout)
            print(show(row["row"] + " (pip)", entry["pip"]), flush=True)
        results[row["row"]] = entry
    load = os.getloadavg()
    doc = {"load_1_5_15": load, "cores": os.cpu_count(), "runs": args.runs, "rows": results,
           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores")
    out = pathlib.Path(args.out)
    if out.exists() and args.only:  # a partial run updates its rows only
        old = json.loads(out.read_text())
        old["rows"].update(results)
        doc["rows"] = old["rows"]
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
