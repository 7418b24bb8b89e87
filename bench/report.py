#!/usr/bin/env python3
"""bench: turn Google Benchmark JSON into rxlog's results file and a table.

Run by scripts/bench, once per suite:

    report.py --suite log --raw raw.json --out-dir bench/results --stamp 20261127T170000Z

writes <out-dir>/<suite>-<stamp>.json and <out-dir>/<suite>-latest.json:

    {"suite": ..., "timestamp": ..., "machine": {...}, "run": {...},
     "results": [{"suite", "case", "benchmark", "records_per_s", "bytes_per_s",
                  "baseline", "baseline_case", "ratio",
                  "target", "target_metric", "target_desc", "meets_target",
                  "error", "repetitions", "cv", "iterations", "real_time", "cpu_time",
                  "time_unit",
                  "counters"}, ...]}

Rates are per second of the time the case is measured in (wall time for
the log suite); with --benchmark_repetitions, each field is the median.
records_per_s is null where a case has no records (CRC, write(2));
baseline/ratio/target fields are present only where they apply. ratio = the
case's metric / the baseline's, over the same payload definition
(bench/bench_log.c, "Rates"). Exit status: 0, or 1 when the raw file is
unusable or a case reported an error.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys

DURABILITY = {0: "none", 1: "interval", 2: "fsync"}

# Keys Google Benchmark adds to a name that are not our arguments.
GB_SUFFIX = re.compile(r"^(real_time|manual_time|process_time|iterations:\d+|"
                       r"min_time:[\d.]+s?|min_warmup_time:[\d.]+|repeats:\d+|threads:\d+)$")

# Fields of a raw benchmark entry that are not user counters.
GB_FIELDS = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type",
    "repetitions", "repetition_index", "threads", "iterations", "real_time", "cpu_time",
    "time_unit", "bytes_per_second", "items_per_second", "label", "error_occurred",
    "error_message", "aggregate_name", "aggregate_unit", "big_o", "rms",
}


def size_name(n):
    for unit, div in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return f"{n}B"


def parse_name(name):
    """'append/value:64/dur:0/iterations:3/real_time' -> ('append', {'value': 64, 'dur': 0})."""
    parts = name.split("/")
    args = {}
    for i, tok in enumerate(parts[1:]):
        if GB_SUFFIX.match(tok):
            continue
        key, sep, val = tok.partition(":")
        if not sep:
            key, val = f"arg{i}", tok
        try:
            args[key] = int(val)
        except ValueError:
            args[key] = val
    return parts[0], args


# ---- what each suite's cases are called, compared with and aimed at -----------------------

def crc_case(fam, args):
    return f"{fam}/{size_name(args.get('bytes', 0))}"


def crc_baseline(fam, args):
    if fam in ("crc32c_hw", "crc32c_sw"):
        return ("memcpy", args), "bytes_per_s"
    return None, None


def crc_target(fam, args, row):
    return None


def log_case(fam, args):
    if fam == "write":
        return "write(2)+fdatasync" if args.get("fdatasync") else "write(2)"
    if fam == "append":
        return f"append/{size_name(args['value'])}/{DURABILITY.get(args['dur'], args['dur'])}"
    if fam == "append_nosync":
        return f"append/{size_name(args['value'])}/none/nosync"
    if fam == "reader_scan":
        return "reader_scan/64B/reopen" if args.get("reopen") else "reader_scan/64B"
    if fam in ("encode", "copy"):
        return f"{fam}/{size_name(args['value'])}/{args['headers']}h"
    return fam + "".join(f"/{k}:{v}" for k, v in args.items())


def log_baseline(fam, args):
    # Same end state: append ends in rxl_log_sync() (written + fdatasync'd),
    # append_nosync when the HWM reaches the end (written, not synced).
    if fam == "append":
        return ("write", {"fdatasync": 1}), "bytes_per_s"
    if fam == "append_nosync":
        return ("write", {"fdatasync": 0}), "bytes_per_s"
    # The batch encoder against a memcpy of the same bytes without framing.
    if fam == "encode":
        return ("copy", dict(args)), "records_per_s"
    return None, None


def log_target(fam, args, row):
    """(metric, threshold, description) of the case's target, or None."""
    none = fam == "append_nosync" or (fam == "append" and args.get("dur") == 0)
    if none and args.get("value") == 64:
        return "records_per_s", 8e6, ">= 8,000,000 records/s"
    if none and args.get("value") == 1024 and row.get("baseline") is not None:
        return "bytes_per_s", 0.9 * row["baseline"], ">= 0.9 x baseline bytes/s"
    if fam == "reader_scan" and not args.get("reopen"):
        return "records_per_s", 30e6, ">= 30,000,000 records/s"
    return None


def consumer_case(fam, args):
    # "latency/pipe" parses as family "latency" with a bare argument.
    return f"{fam}/{args['arg0']}" if "arg0" in args else fam


def consumer_baseline(fam, args):
    # One record from append to a waiting reader's wake-up, against one
    # 8-byte message through a pipe to a thread blocked in read(2): round
    # trips per second (the p50_us/p99_us counters carry the latencies).
    if fam == "latency" and args.get("arg0") == "append_to_wakeup":
        return ("latency", {"arg0": "pipe"}), "records_per_s"
    return None, None


def consumer_target(fam, args, row):
    return None


SUITES = {
    "crc": (crc_case, crc_baseline, crc_target),
    "log": (log_case, log_baseline, log_target),
    "consumer": (consumer_case, consumer_baseline, consumer_target),
}


# ---- machine -------------------------------------------------------------------------------

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") or line.startswith("Model"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def mem_total_bytes():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_quiet(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=True)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info(context, data_dir):
    info = {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpus_online": os.cpu_count(),
        "cpu_model": cpu_model(),
        "sse4_2": "sse4_2" in cpu_flags(),
        "kernel": platform.release(),
        "os": run_quiet(["sh", "-c", ". /etc/os-release && echo \"$PRETTY_NAME\""]),
        "mem_total_bytes": mem_total_bytes(),
        "hostname": platform.node(),
    }
    if data_dir:
        info["data_dir"] = data_dir
        # findmnt names ext4 as such; stat -f only knows "ext2/ext3".
        info["data_fs"] = (run_quiet(["findmnt", "-n", "-o", "FSTYPE", "--target", data_dir])
                           or run_quiet(["stat", "-f", "-c", "%T", data_dir]))
        info["data_device"] = run_quiet(["df", "--output=source", data_dir])
        if info["data_device"]:
            info["data_device"] = info["data_device"].splitlines()[-1].strip()
    for key in ("mhz_per_cpu", "cpu_scaling_enabled", "caches", "load_avg",
                "library_build_type"):
        if key in context:
            info[key] = context[key]
    return info


# ---- report --------------------------------------------------------------------------------

def select_runs(raw):
    """One entry per case: the median over repetitions where there are
    several (--benchmark_repetitions), else the single run; a case that
    failed has no aggregates, only its failed run."""
    benchmarks = raw.get("benchmarks", [])
    medians = {b["run_name"]: b for b in benchmarks
               if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median"}
    cvs = {b["run_name"]: b.get("real_time") for b in benchmarks
           if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "cv"}
    runs, seen = [], set()
    for b in benchmarks:
        name = b.get("run_name", b["name"])
        if b.get("run_type", "iteration") != "iteration" or name in seen:
            continue
        seen.add(name)
        runs.append((name, medians.get(name, b), cvs.get(name)))
    return runs


def build_results(suite, raw):
    case_name, baseline_of, target_of = SUITES[suite]
    rows, by_key = [], {}
    for name, b, cv in select_runs(raw):
        fam, args = parse_name(name)
        row = {
            "suite": suite,
            "case": case_name(fam, args),
            "benchmark": name,
            "records_per_s": b.get("items_per_second"),
            "bytes_per_s": b.get("bytes_per_second"),
        }
        if b.get("error_occurred"):
            row["error"] = b.get("error_message", "error")
            row["records_per_s"] = row["bytes_per_s"] = None
        row.update({
            "repetitions": b.get("repetitions", 1) if b.get("run_type") == "aggregate" else 1,
            # Spread of the repetitions: stddev / mean of the time (null for one run).
            "cv": cv,
            # An aggregate's "iterations" counts repetitions: leave it out.
            "iterations": None if b.get("run_type") == "aggregate" else b.get("iterations"),
            "real_time": b.get("real_time"),
            "cpu_time": b.get("cpu_time"),
            "time_unit": b.get("time_unit"),
            "counters": {k: v for k, v in b.items() if k not in GB_FIELDS},
        })
        rows.append((fam, args, row))
        by_key[(fam, tuple(sorted(args.items())))] = row

    for fam, args, row in rows:
        base, metric = baseline_of(fam, args)
        if base:
            brow = by_key.get((base[0], tuple(sorted(base[1].items()))))
            bval = brow.get(metric) if brow else None
            row["baseline_case"] = brow["case"] if brow else None
            row["baseline_metric"] = metric
            row["baseline"] = bval
            row["ratio"] = (row[metric] / bval if bval and row.get(metric) is not None
                            else None)
        tgt = target_of(fam, args, row)
        if tgt:
            metric, threshold, desc = tgt
            row["target"] = threshold
            row["target_metric"] = metric
            row["target_desc"] = desc
            val = row.get(metric)
            row["meets_target"] = None if val is None else bool(val >= threshold)
    return [r for _, _, r in rows]


def si(v, unit):
    if v is None:
        return "-"
    for div, p in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.2f} {p}{unit}"
    return f"{v:.0f} {unit}"


def print_table(suite, results):
    hdr = ("case", "records/s", "bytes/s", "cv", "baseline", "ratio", "target", "met")
    lines = []
    for r in results:
        tmetric = r.get("target_metric")
        tunit = "rec/s" if tmetric == "records_per_s" else "B/s"
        met = r.get("meets_target")
        lines.append((
            r["case"],
            si(r["records_per_s"], "rec/s"),
            si(r["bytes_per_s"], "B/s"),
            f"{100 * r['cv']:.0f}%" if r.get("cv") is not None else "",
            si(r.get("baseline"), "rec/s" if r.get("baseline_metric") == "records_per_s" else "B/s") if "baseline" in r else "",
            f"{r['ratio']:.2f}" if r.get("ratio") is not None else "",
            si(r["target"], tunit) if "target" in r else "",
            "" if "target" not in r else ("n/a" if met is None else ("yes" if met else "NO")),
        ))
    widths = [max(len(hdr[i]), *(len(ln[i]) for ln in lines)) if lines else len(hdr[i])
              for i in range(len(hdr))]

    def fmt(cols):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cols, widths)))

    print(f"\n{suite}: rates per second, k/M/G = 10^3/10^6/10^9; "
          "medians when repeated, cv = spread of the repetitions")
    print(fmt(hdr))
    print(fmt(tuple("-" * w for w in widths)))
    for ln in lines:
        print(fmt(ln))
    for r in results:
        if r.get("error"):
            print(f"  ERROR {r['case']}: {r['error']}")
    met = [r["meets_target"] for r in results if "target" in r]
    if met:
        print(f"  targets met: {sum(1 for m in met if m)}/{len(met)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--suite", required=True, choices=sorted(SUITES))
    ap.add_argument("--raw", required=True, help="Google Benchmark JSON (--benchmark_out)")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--stamp", required=True, help="UTC timestamp for the file name")
    ap.add_argument("--data-dir", help="folder the cases wrote to (file system is recorded)")
    ap.add_argument("--min-time", type=float, help="--benchmark_min_time used")
    ap.add_argument("--repetitions", type=int, default=1, help="--benchmark_repetitions used")
    ap.add_argument("--exit-status", type=int, default=0, help="the benchmark binary's")
    opt = ap.parse_args()

    try:
        with open(opt.raw) as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        print(f"report.py: cannot read {opt.raw}: {e}", file=sys.stderr)
        return 1

    results = build_results(opt.suite, raw)
    context = raw.get("context", {})
    doc = {
        "suite": opt.suite,
        "timestamp": opt.stamp,
        "machine": machine_info(context, opt.data_dir),
        "run": {
            "date": context.get("date"),
            "executable": context.get("executable"),
            "min_time_s": opt.min_time,
            "repetitions": opt.repetitions,
            "exit_status": opt.exit_status,
            "git_commit": run_quiet(["git", "-C", os.path.dirname(os.path.abspath(__file__)),
                                     "rev-parse", "--short", "HEAD"]),
        },
        "results": results,
    }
    os.makedirs(opt.out_dir, exist_ok=True)
    path = os.path.join(opt.out_dir, f"{opt.suite}-{opt.stamp}.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    latest = os.path.join(opt.out_dir, f"{opt.suite}-latest.json")
    shutil.copyfile(path, latest + ".tmp")
    os.replace(latest + ".tmp", latest)

    print_table(opt.suite, results)
    print(f"  written: {os.path.relpath(path)}, {os.path.relpath(latest)}")
    if not results:
        print("report.py: no results in the raw file", file=sys.stderr)
        return 1
    return 1 if any(r.get("error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
