#!/usr/bin/env python3
"""CPU seconds per training example of a `psrec train` run, per process.

Runs `psrec train ARGS...` with --run_dir and --metrics_json of its own,
samples /proc/PID/stat of the driver and every child named in
RUN_DIR/children.txt every 0.1 s (the last sample before a process exits
is its CPU time), and prints one JSON line: examples/s, CPU seconds per
process and role, and CPU microseconds per example. CPU time depends far
less on other jobs on the machine than wall-clock time does.
Usage: bench/e2e_cpu.py PSREC [TRAIN FLAGS...]
"""
import json, os, shutil, subprocess, sys, tempfile, time

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    except (OSError, IndexError):
        return None


def main():
    psrec, flags = sys.argv[1], sys.argv[2:]
    run_dir = tempfile.mkdtemp(prefix="psrec-cpu-")
    metrics = os.path.join(run_dir, "metrics.json")
    proc = subprocess.Popen([psrec, "train", f"--run_dir={run_dir}", f"--metrics_json={metrics}",
                             "--log_level=warn", "--progress=off"] + flags,
                            stdout=subprocess.DEVNULL)
    cpu = {}  # name -> last sampled CPU seconds
    while proc.poll() is None:
        names = {"driver": proc.pid}
        try:
            with open(os.path.join(run_dir, "children.txt")) as f:
                for line in f:
                    parts = line.split("\t")
                    if len(parts) >= 2:
                        names[parts[0]] = int(parts[1])
        except OSError:
            pass
        for name, pid in names.items():
            c = cpu_seconds(pid)
            if c is not None:
                cpu[name] = max(c, cpu.get(name, 0.0))
        time.sleep(0.1)
    if proc.returncode != 0:
        sys.exit(f"psrec train exited with {proc.returncode} (run directory {run_dir})")
    m = json.load(open(metrics))
    shutil.rmtree(run_dir, ignore_errors=True)
    examples = m["train_examples"]
    roles = {}
    for name, c in cpu.items():
        role = name.rstrip("0123456789 -_")
        roles[role] = roles.get(role, 0.0) + c
    total = sum(cpu.values())
    print(json.dumps({
        "case": "neumf_cpu", "flags": " ".join(flags), "examples": examples,
        "train_seconds": round(m["train_seconds"], 2),
        "examples_per_second": round(m["examples_per_second"], 1),
        "hr_at_10": round(m.get("hr_at_10", 0), 4), "ndcg_at_10": round(m.get("ndcg_at_10", 0), 4),
        "cpu_seconds": {k: round(v, 2) for k, v in sorted(cpu.items())},
        "cpu_us_per_example": {k: round(1e6 * v / examples, 2) for k, v in sorted(roles.items())},
        "cpu_us_per_example_total": round(1e6 * total / examples, 2)}))


if __name__ == "__main__":
    main()
