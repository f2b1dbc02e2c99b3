#!/usr/bin/env python3
"""MF at scale (issue 4, items 2, 3 and 6), run by bench/mf_scale.sh.

Part 1 ("mf20m"): MF k=32, SGD, on a synthetic set of 20M ratings (200k users
x 50k items, planted rank-16 model plus noise; generated once and cached under
build/bench-data). Both modes in the same run, alternating, each case
--repeats times: `psrec train --servers=0` (in-process, HOGWILD! threads)
and `--servers=1 --workers=1 --sync_every=N` (through the parameter server,
in windows of N ratings; --ps_batches adds the per-batch PS path).

Part 2 ("scale", with --scale): one epoch over synthetic sets of 10M, 30M and
100M interactions (1M users, 200k items; the first 10M, 30M and all lines of
one file written by mawk) with 2 servers + 2 workers; time and peak resident
memory (VmHWM) of every process.

One JSON line per case and run on stdout. Peak memory is sampled from
/proc/PID/status every 0.2 s (VmHWM is a high-water mark, so a sample just
before a process exits holds nearly all of it).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def gen(psrec, out, users, items, per_user, rank, seed):
    if os.path.exists(os.path.join(out, "train.rating")):
        return
    os.makedirs(out, exist_ok=True)
    subprocess.run([psrec, "gen", "--out=" + out, "--implicit=false",
                    f"--gen_users={users}", f"--gen_items={items}",
                    f"--gen_per_user={per_user}", f"--gen_rank={rank}", f"--seed={seed}"],
                   check=True, stdout=sys.stderr)


def status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def status_kb_meminfo(field):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError):
        return None


def role_of(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
        # Empty (or the parent's) between fork and exec: ask again later.
        role = args[1].decode() if len(args) > 1 else ""
        return role if role in ("coordinator", "server", "worker") else None
    except OSError:
        return None


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def run_measured(cmd):
    """Runs cmd; returns (exit code, wall seconds, {process: peak KB}, {process: cpu s})."""
    start = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, cpu, names = {}, {}, {}
    counts = {}
    while p.poll() is None:
        for pid in [p.pid] + children(p.pid):
            if pid not in names:
                role = "train" if pid == p.pid else role_of(pid)
                if role is None:
                    continue
                counts[role] = counts.get(role, 0) + 1
                names[pid] = role if pid == p.pid else f"{role}-{counts[role] - 1}"
            hwm = status_kb(pid, "VmHWM")
            if hwm is not None:
                peak[names[pid]] = max(peak.get(names[pid], 0), hwm)
            c = cpu_seconds(pid)
            if c is not None:
                cpu[names[pid]] = max(cpu.get(names[pid], 0), c)
        time.sleep(0.2)
    out = p.stdout.read()
    if p.returncode != 0:
        sys.stderr.write(out)
    return p.returncode, time.time() - start, peak, cpu


def train_case(psrec, args, flags, metrics):
    code, wall, peak, cpu = run_measured([psrec, "train"] + flags + [
        "--metrics_json=" + metrics, "--progress=off", "--log_level=warn"])
    if code != 0:
        return {"error": f"exit {code}"}
    m = json.load(open(metrics))
    return {"m": m, "wall": wall, "peak": peak, "cpu": cpu}


def mf20m(psrec, args):
    data = os.path.join(args.data, "mf20m")
    gen(psrec, data, 200000, 50000, 125, 16, 7)
    common = ["--model=mf", "--dim=32", "--optimizer=sgd", f"--epochs={args.epochs}",
              "--train=" + os.path.join(data, "train.rating"),
              "--test=" + os.path.join(data, "test.rating")]
    # The same step per rating in both modes: lr applies to a batch's mean
    # loss, so lr / batch_size is what must match (README "Performance").
    per_rating = args.lr_per_rating
    cases = [("in_process", 1, ["--servers=0", "--workers=1", "--batch_size=256",
                                f"--lr={per_rating * 256:g}"])]
    if os.cpu_count() >= 2:
        cases.append(("in_process", 2, ["--servers=0", "--workers=2", "--batch_size=256",
                                        f"--lr={per_rating * 256:g}"]))
    ps = ["--servers=1", "--workers=1", f"--batch_size={args.ps_batch}",
          f"--lr={per_rating * args.ps_batch:g}"]
    # Through the PS in windows (README "Windowed MF"): the mode to use for
    # mf + sgd. --ps_batches also runs the per-batch path, for comparison.
    cases.append(("ps_1x1", 1, ps + [f"--sync_every={args.sync_every}"]))
    if args.ps_batches:
        cases.append(("ps_1x1_batches", 1, ps))
    tmp = tempfile.mkdtemp(prefix="psrec-mf-scale-")
    for run in range(1, args.repeats + 1):
        # Updates/s of the in-process 1-thread case of this run: the PS cases
        # report theirs as a ratio of it (same run, same machine load).
        baseline = None
        for mode, workers, flags in cases:
            r = train_case(psrec, args, common + flags, os.path.join(tmp, "m.json"))
            line = {"case": "mf20m", "mode": mode, "workers": workers, "run": run}
            if "error" in r:
                line.update(r)
                print(json.dumps(line), flush=True)
                continue
            m = r["m"]
            # Cores busy training: the threads in-process; server + worker
            # processes through the PS. Never more than the machine has.
            cores = min(os.cpu_count(), workers if mode == "in_process" else 2)
            ups = m["examples_per_second"]
            if mode == "in_process" and workers == 1:
                baseline = ups
            line.update({
                "ratings": m["train_examples"] // max(1, m["epochs"]), "epochs": m["epochs"],
                "batch_size": m["batch_size"], "lr": m["lr"],
                "seconds": round(m["train_seconds"], 2),
                "updates_per_second": round(ups),
                "updates_per_second_per_core": round(ups / cores),
                "rmse": m["rmse"],
                "peak_rss_mb": {k: round(v / 1024) for k, v in sorted(r["peak"].items())},
                "cpu_seconds": {k: round(v, 1) for k, v in sorted(r["cpu"].items())},
                "wall_seconds": round(r["wall"], 1)})
            if "train_cpu_seconds" in m:
                line["updates_per_cpu_second"] = round(m["train_examples"] / m["train_cpu_seconds"])
            if mode.startswith("ps_"):
                line["sync_every"] = args.sync_every if mode == "ps_1x1" else 0
                if baseline:
                    line["ratio_to_in_process_1_thread"] = round(ups / baseline, 3)
            # CPU-seconds per million updates, per process: robust to the
            # machine's load, unlike the rates (whole run, startup included).
            line["cpu_seconds_per_million_updates"] = {
                k: round(v / (m["train_examples"] / 1e6), 3) for k, v in sorted(r["cpu"].items())}
            print(json.dumps(line), flush=True)


# Ratings for the scale cases, written by mawk: `psrec gen` scores every item
# for every user (exact planted-model sampling), which at 1M users x 200k
# items is ~10 CPU-minutes, too slow here; timing and memory do not need the
# planted structure. Users uniform, items skewed (item = 200k * u^3, so low
# ids are popular), ratings in half stars.
SCALE_AWK = ('BEGIN{srand(11); for(i=0;i<n;i++){r=rand(); printf "%d\\t%d\\t%.1f\\t%d\\n", '
             'int(rand()*1000000)+1, int(200000*r*r*r)+1, 1+int(rand()*9)/2, 1000000000+i}}')


def scale_file(data, millions):
    """The first `millions` M lines of one generated 100M-line file."""
    full = os.path.join(data, "scale", "train100m.rating")
    os.makedirs(os.path.dirname(full), exist_ok=True)
    if not os.path.exists(full):
        with open(full + ".tmp", "w") as f:
            subprocess.run(["mawk", "-v", "n=100000000", SCALE_AWK], check=True, stdout=f)
        os.rename(full + ".tmp", full)
    if millions == 100:
        return full
    path = os.path.join(data, "scale", f"train{millions}m.rating")
    if not os.path.exists(path):
        with open(path + ".tmp", "w") as f:
            subprocess.run(["head", "-n", str(millions * 1000000), full], check=True, stdout=f)
        os.rename(path + ".tmp", path)
    return path


def scale(psrec, args):
    tmp = tempfile.mkdtemp(prefix="psrec-scale-")
    per_interaction = None  # MB of peak RSS (all processes) per million interactions
    for millions in [int(m) for m in args.scale_cases.split(",")]:
        if millions > args.scale_max:
            print(json.dumps({"case": "scale", "interactions_millions": millions,
                              "skipped": f"--scale_max={args.scale_max}"}), flush=True)
            continue
        if per_interaction is not None:
            # Every worker holds the whole file's rows (compactly): memory
            # grows with it. Refuse a case that would push a shared machine
            # into swapping or the OOM killer, saying why.
            need_mb = per_interaction * millions
            avail_mb = status_kb_meminfo("MemAvailable") / 1024
            if need_mb > 0.8 * avail_mb:
                print(json.dumps({
                    "case": "scale", "interactions_millions": millions,
                    "skipped": "not enough memory",
                    "projected_peak_rss_mb_all_processes": round(need_mb),
                    "mem_available_mb": round(avail_mb),
                    "why": "projected from the largest case run: memory grows with the "
                           "data in every worker (compact rows, ~12 bytes each)"}), flush=True)
                continue
        t0 = time.time()
        train = scale_file(args.data, millions)
        gen_seconds = time.time() - t0
        flags = ["--model=mf", "--dim=32", "--optimizer=sgd", "--epochs=1", "--servers=2",
                 "--workers=2", f"--batch_size={args.ps_batch}",
                 # Timing only; item 1 holds ~1.7% of these ratings, and at the
                 # mf20m lr its summed gradient per batch diverged.
                 "--lr=1", "--train=" + train]
        for run in range(1, args.repeats + 1):
            r = train_case(psrec, args, flags, os.path.join(tmp, "m.json"))
            line = {"case": "scale", "interactions_millions": millions, "run": run,
                    "servers": 2, "workers": 2}
            if "error" in r:
                line.update(r)
            else:
                m = r["m"]
                line.update({
                    "interactions": m["train_examples"],
                    "epoch_seconds": round(m["train_seconds"], 2),
                    "wall_seconds": round(r["wall"], 1),
                    "examples_per_second": round(m["examples_per_second"]),
                    "peak_rss_mb": {k: round(v / 1024) for k, v in sorted(r["peak"].items())},
                    "cpu_seconds": {k: round(v, 1) for k, v in sorted(r["cpu"].items())}})
                per_interaction = max(per_interaction or 0,
                                      sum(r["peak"].values()) / 1024 / millions)
                if run == 1 and gen_seconds > 1:
                    line["gen_seconds"] = round(gen_seconds, 1)
            print(json.dumps(line), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--psrec", default=os.path.join(ROOT, "build", "psrec"))
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "bench-data"))
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr_per_rating", type=float, default=2.0 / 256,
                    help="lr / batch_size in every case")
    ap.add_argument("--ps_batch", type=int, default=8192)
    ap.add_argument("--sync_every", type=int, default=1000000,
                    help="ratings per window of the ps_1x1 case (psrec --sync_every)")
    ap.add_argument("--ps_batches", action="store_true",
                    help="also the PS case without windows (per-batch pull and push)")
    ap.add_argument("--scale", action="store_true", help="also the 10M/30M/100M scale cases")
    ap.add_argument("--scale_max", type=int, default=100, help="largest scale case, millions")
    ap.add_argument("--scale_cases", default="10,30,100",
                    help="scale cases to run, millions of interactions (10, 30, 100)")
    ap.add_argument("--skip_mf20m", action="store_true")
    args = ap.parse_args()
    if not args.skip_mf20m:
        mf20m(args.psrec, args)
    if args.scale:
        scale(args.psrec, args)


if __name__ == "__main__":
    main()
