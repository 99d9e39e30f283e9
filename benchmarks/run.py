"""Time and measure this micrograd against the original 0.1.0 and PyTorch, side by side, in one run.

    python benchmarks/run.py            # the full table, about 15 minutes on 2 cores
    python benchmarks/run.py --quick    # a smoke run with small sizes, a few seconds

Every row runs in a fresh process with the interpreter's default settings (garbage collector on):
ours from this repository, the original from PyPI in its own virtual environment under
benchmarks/.cache (both packages are called micrograd), torch at one thread. Writes results.md
and results.png next to this file, or into --out.
"""
import argparse
import collections
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ORIGINAL = "micrograd==0.1.0"

OURS, ORIG, COMPILED = "ours", "original 0.1.0", "ours, compiled"
TORCH, BATCHED = "torch, scalar", "torch, batched"
MICROGPT = "microgpt's Value"  # the GPT rows' reference: a Value of microgpt's design, in bench_gpt.py
SCRIPT = "microgpt's code, our Value"  # the same model code, run unchanged on micrograd.engine.Value
# which script runs each implementation, and under which workload name
SCRIPTS = {OURS: "bench_micrograd.py", ORIG: "bench_micrograd.py", COMPILED: "bench_micrograd.py",
           TORCH: "bench_torch.py", BATCHED: "bench_torch.py", MICROGPT: "bench_gpt.py", SCRIPT: "bench_gpt.py"}
SUFFIX = {COMPILED: "_compiled", BATCHED: "_batched", MICROGPT: "_microgpt", SCRIPT: "_script"}


def plan(quick):
    """(row label, workload, size, {implementation: repeats}) for every row of the table"""
    if quick:
        steps, samples, leaves, expr, softmax_steps = 2, 20, 10**3, 50, 2
        chains = [10**3, 10**4]
        every = {OURS: 1, ORIG: 1, TORCH: 1}
        moons = dict(every, **{BATCHED: 2, COMPILED: 2})
        demo = dict(moons, **{BATCHED: 1, COMPILED: 1})
        softmax = {OURS: 1, COMPILED: 1, BATCHED: 1}
        gpt_steps, gpt_train, gpt_step = 3, {OURS: 1, COMPILED: 1, MICROGPT: 1, SCRIPT: 1, BATCHED: 1}, None
    else:
        steps, samples, leaves, expr, softmax_steps = 100, 100, 10**5, 2000, 20
        chains = [10**3, 10**4, 10**5, 10**6]
        every = {OURS: 5, ORIG: 5, TORCH: 5}
        moons = {OURS: 10, ORIG: 10, TORCH: 5, BATCHED: 20, COMPILED: 20}
        # the original's and torch-scalar's demo take minutes each: one run of those
        demo = {OURS: 3, ORIG: 1, TORCH: 1, BATCHED: 5, COMPILED: 5}
        softmax = {OURS: 3, COMPILED: 5, BATCHED: 5}
        # the 1,000 steps take minutes eagerly: one run each
        gpt_steps, gpt_train = 1000, {OURS: 1, COMPILED: 1, MICROGPT: 1, SCRIPT: 1, BATCHED: 1}
        gpt_step = {OURS: 10, COMPILED: 30, MICROGPT: 10, SCRIPT: 10, BATCHED: 30}
    rows = [("README expression, forward + backward", "expr", expr, every),
            (f"moons: one training step ({samples} samples)", "step", samples, moons),
            (f"moons: the demo's {steps} steps (100 samples)", "demo", steps, demo),
            # the original has no exp or log: ours eager against ours compiled, and batched torch
            (f"softmax classifier, 3 classes: {softmax_steps} steps (100 samples)", "softmax",
             softmax_steps, softmax)]
    for n in chains:
        repeats = {OURS: 3, ORIG: 3, TORCH: 3 if n < 10**6 else 1}
        rows.append((f"chain of {_sci(n)} relu, forward + backward", "chain", n, repeats))
    rows.append((f"sum of {_sci(leaves)} leaves (balanced tree), forward + backward", "sum", leaves, every))
    rows.append((f"memory per node, tracemalloc ({_sci(leaves)}-leaf tree)", "mem_tracemalloc", leaves,
                 {OURS: 1, ORIG: 1}))
    rows.append((f"memory per node, peak RSS growth ({_sci(leaves)}-leaf tree)", "mem_rss", leaves,
                 {OURS: 1, ORIG: 1, TORCH: 1}))
    # microgpt on names: the reference is microgpt's Value, not the original (it has no exp or log)
    rows.append((f"names GPT (microgpt): {gpt_steps} training steps", "gpt_train", gpt_steps, gpt_train))
    if gpt_step:
        rows.append(("names GPT: one step on a 3-letter name", "gpt_step", 1, gpt_step))
    rows.append(("names GPT: peak bytes traced during one step", "gpt_mem", 1, {OURS: 1, MICROGPT: 1}))
    return rows


def _sci(n):
    return f"1e{len(str(n)) - 1}" if str(n).strip("0") == "1" else str(n)


def original_python(cache):
    """the interpreter of a venv holding the original micrograd, created on first use; None if it
    can't be (no network to PyPI, say): the table then has no original column, and says why"""
    venv = cache / "venv-orig"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # -I: isolated, so a micrograd.egg-info in the current folder (this repository's) is not found
    probe = [str(python), "-I", "-c", "import importlib.metadata as m; print(m.version('micrograd'))"]
    if python.exists() and subprocess.run(probe, capture_output=True, text=True).stdout.strip() == "0.1.0":
        print(f"original: reusing {venv}", flush=True)
        return python
    print(f"original: creating {venv} and installing {ORIGINAL} from PyPI", flush=True)
    for step in ([sys.executable, "-m", "venv", "--clear", str(venv)],
                 [str(python), "-m", "pip", "install", "--quiet", ORIGINAL]):
        proc = subprocess.run(step, capture_output=True, text=True)
        if proc.returncode != 0:
            reason = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            print(f"original: skipped, `{' '.join(step[-3:])}` failed: {reason}", flush=True)
            return None
    return python


def script_for(impl, workload):
    """the script that runs a workload: bench_gpt.py every implementation's GPT rows"""
    return "bench_gpt.py" if workload.startswith("gpt_") else SCRIPTS[impl]


def run_jobs(impl, jobs, python):
    """run jobs in one fresh process of the implementation's interpreter; one result per job"""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if impl != ORIG:
        env["PYTHONPATH"] = str(REPO)  # this repository's package, whatever else is installed
    script = script_for(impl, jobs[0]["workload"])
    jobs = [dict(job, workload=job["workload"] + SUFFIX.get(impl, "")) for job in jobs]
    # run from benchmarks/: the current directory must not put the repository on the original's path
    proc = subprocess.run([str(python), script, json.dumps(jobs)], cwd=HERE, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{impl} failed on {jobs}:\n{proc.stderr}")
    return json.loads(proc.stdout.splitlines()[-1])


def measure(rows, pythons, quick):
    """every (row, implementation) result, each in a fresh process (all of one in one, if quick)"""
    todo = [(label, impl, {"workload": workload, "size": size, "repeats": repeats})
            for label, workload, size, plan_ in rows for impl, repeats in plan_.items()
            if impl in pythons]
    results = {}
    if quick:  # one process per implementation and script: the numbers mean nothing, the code paths run
        batches = collections.defaultdict(list)   # (implementation, script) -> its (label, job)s
        for label, impl, job in todo:
            batches[impl, script_for(impl, job["workload"])].append((label, job))
        for (impl, _), mine in batches.items():
            for (label, _), result in zip(mine, run_jobs(impl, [job for _, job in mine], pythons[impl])):
                results[label, impl] = result
        return results
    for n, (label, impl, job) in enumerate(todo, 1):
        print(f"[{n}/{len(todo)}] {label} | {impl}", flush=True)
        results[label, impl] = run_jobs(impl, [job], pythons[impl])[0]
    return results


def value_of(result):
    """median time in seconds, or bytes per node; None when the run failed"""
    if "times" in result:
        return statistics.median(result["times"])
    return result.get("bytes_per_node")


def fmt_time(t):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t / 1e-9:.3g} ns"


def fmt_ratio(r):
    return f"{r:.3g}×" if r < 1000 else f"{r:,.0f}×"


def table(rows, results):
    lines = ["| workload | implementation | min | median | repeats | original ÷ this | result |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for label, _, _, plan_ in rows:
        base = results.get((label, ORIG)) or results.get((label, MICROGPT), {})
        for impl in plan_:
            result = results.get((label, impl))
            if result is None:
                continue
            if "error" in result:
                lines.append(f"| {label} | {impl} | fails: {result['error']} | | | | |")
                continue
            if "times" in result:
                low, mid = fmt_time(min(result["times"])), fmt_time(value_of(result))
                repeats = len(result["times"])
            else:
                low = mid = f"{result['bytes_per_node']:.0f} B"
                repeats = 1
            if impl in (ORIG, MICROGPT):
                ratio = "1×"
            elif value_of(base) and value_of(result):
                ratio = fmt_ratio(value_of(base) / value_of(result))
            else:
                ratio = "original fails" if "error" in base else ""
            lines.append(f"| {label} | {impl} | {low} | {mid} | {repeats} | {ratio} | "
                         f"{result['check']:.6g} |")
    return "\n".join(lines)


def summary(rows, results):
    """the issue's targets, read off the table"""
    label = {workload: label for label, workload, _, _ in rows}

    def ratio(workload, impl, other=ORIG):
        a, b = results.get((label[workload], other)), results.get((label[workload], impl))
        if not a or not b or value_of(a) is None or value_of(b) is None:
            return None
        return value_of(a) / value_of(b)

    checks = [("eager demo, original ÷ ours (target ≥ 20)", ratio("demo", OURS)),
              ("eager step, original ÷ ours", ratio("step", OURS)),
              ("memory per node by tracemalloc, ours ÷ original (target ≤ 0.35)",
               ratio("mem_tracemalloc", ORIG, OURS)),
              (f"{label['chain']}, torch scalar ÷ ours (target ≥ 2 for 1e6)", ratio("chain", OURS, TORCH)),
              ("compiled demo incl. recording, original ÷ ours (target ≥ 1000)", ratio("demo", COMPILED)),
              ("compiled demo incl. recording, time ÷ torch batched's (target ≤ 3)",
               ratio("demo", BATCHED, COMPILED)),
              ("compiled step, time ÷ torch batched's (target ≤ 2)", ratio("step", BATCHED, COMPILED)),
              ("softmax classifier incl. recording, eager ÷ compiled", ratio("softmax", COMPILED, OURS)),
              ("softmax classifier incl. recording, compiled time ÷ torch batched's",
               ratio("softmax", BATCHED, COMPILED)),
              ("GPT training eager, microgpt's Value ÷ ours (target ≥ 15)", ratio("gpt_train", OURS, MICROGPT)),
              ("GPT training, microgpt's code: its Value ÷ ours (target ≥ 2)", ratio("gpt_train", SCRIPT, MICROGPT)),
              ("GPT training compiled incl. recordings, microgpt's Value ÷ ours (target ≥ 20)",
               ratio("gpt_train", COMPILED, MICROGPT)),
              ("GPT memory of one step, ours ÷ microgpt's Value (target ≤ 1)", ratio("gpt_mem", MICROGPT, OURS))]
    return "\n".join(f"- {name}: {value:.3g}" for name, value in checks if value is not None)


def machine(pythons):
    def version(python, module):
        code = f"import importlib.metadata as m; print(m.version('{module}'))"
        proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=HERE)
        return proc.stdout.strip() or "not installed"

    cpu = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").exists():
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=REPO).stdout.strip()
    lines = [f"- date: {datetime.datetime.now().isoformat(timespec='minutes')}",
             f"- machine: {cpu}, {os.cpu_count()} logical cores, {platform.platform()}",
             f"- Python {platform.python_version()} ({platform.python_implementation()}), "
             f"garbage collector at its defaults",
             f"- ours: micrograd from this repository, commit {commit or 'unknown'}; "
             f"numpy {version(sys.executable, 'numpy')} for the compiled path",
             f"- torch {version(sys.executable, 'torch')}, float64, torch.set_num_threads(1)"]
    if ORIG in pythons:
        lines.append(f"- original: micrograd {version(pythons[ORIG], 'micrograd')} from PyPI, "
                     f"in {pythons[ORIG].parent.parent}")
    return "\n".join(lines)


def chart(rows, results, path):
    """grouped horizontal bars on log scales: median times, and bytes per node"""
    try:
        import matplotlib
    except ImportError:
        print("chart: skipped, matplotlib is not installed (pip install matplotlib)", flush=True)
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    impls = [OURS, COMPILED, ORIG, MICROGPT, SCRIPT, TORCH, BATCHED]
    colors = dict(zip(impls, ["tab:blue", "tab:cyan", "tab:gray", "tab:olive", "tab:green", "tab:orange",
                              "tab:red"]))
    panels = [[r for r in rows if "mem" not in r[1]], [r for r in rows if "mem" in r[1]]]
    fig, axes = plt.subplots(2, 1, figsize=(10, 11), height_ratios=[4, 1])
    for ax, panel, unit in zip(axes, panels, ["median time (s), log scale", "bytes per node, log scale"]):
        height = 0.8 / len(impls)
        for k, impl in enumerate(impls):
            ys, xs = [], []
            for i, (label, _, _, _) in enumerate(panel):
                v = value_of(results.get((label, impl), {}))
                if v:
                    ys.append(i + (k - len(impls) / 2) * height)
                    xs.append(v)
            if xs:
                ax.barh(ys, xs, height=height, color=colors[impl], label=impl)
        ax.set_yticks(range(len(panel)))
        ax.set_yticklabels([label for label, _, _, _ in panel], fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel(unit)
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=8)
    axes[0].set_title("micrograd vs the original 0.1.0 and PyTorch (missing bar: not run or failed)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one process per implementation")
    parser.add_argument("--out", type=Path, default=HERE, help="where results.md and results.png go")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache", help="where the original's venv lives")
    parser.add_argument("--no-original", action="store_true", help="skip the original (no venv, no PyPI)")
    args = parser.parse_args(argv)

    pythons = {OURS: Path(sys.executable), COMPILED: Path(sys.executable),
               TORCH: Path(sys.executable), BATCHED: Path(sys.executable), MICROGPT: Path(sys.executable),
               SCRIPT: Path(sys.executable)}
    if args.no_original:
        print("original: skipped (--no-original): no ratios in the table", flush=True)
    else:
        original = original_python(args.cache)
        if original is not None:
            pythons[ORIG] = original
    rows = plan(args.quick)
    results = measure(rows, pythons, args.quick)

    mode = "--quick (small sizes; not for comparison)" if args.quick else "full"
    text = "\n\n".join([
        f"# Benchmarks: `python benchmarks/run.py`{' --quick' if args.quick else ''}",
        machine(pythons),
        f"Mode: {mode}. Min and median over the repeats of one fresh process per row; "
        "\"original ÷ this\" is the original's median over this row's (higher is better, for time and "
        "memory alike); \"result\" is the loss, gradient or sum computed, the same in every column. "
        "The original and torch-scalar run the 100-step demo once (minutes each). "
        "The compiled step excludes the one-time recording; the compiled demo includes it.",
        table(rows, results),
        summary(rows, results)]) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(text, encoding="utf-8")
    print(text)
    if chart(rows, results, args.out / "results.png"):
        print(f"wrote {args.out / 'results.md'} and {args.out / 'results.png'}")
    else:
        print(f"wrote {args.out / 'results.md'}")


if __name__ == "__main__":
    main()
