"""./vireo: Vireo's one front end for users, CI and benchmarks.

Run through the ./vireo wrapper at the repository root, which makes sure
Debian's python3 is there. Every command that builds first runs ci/setup
(installs missing Debian packages) and ninja.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "out")


def say(msg):
    print(msg, flush=True)


def fail(msg, status=2):
    print(f"vireo: {msg}", file=sys.stderr, flush=True)
    sys.exit(status)


def setup_and_build(targets=()):
    r = subprocess.run([os.path.join(ROOT, "ci", "setup")])
    if r.returncode != 0:
        fail("ci/setup failed: the packages above are needed", r.returncode)
    r = subprocess.run(["ninja", "-C", ROOT, *targets], capture_output=True, text=True)
    if r.returncode != 0:
        sys.stdout.write(r.stdout[-6000:])
        sys.stderr.write(r.stderr[-2000:])
        return False
    return True


# ---- test ---------------------------------------------------------------------

class Suite:
    """One line of `./vireo test`: a command whose exit status is the verdict."""

    def __init__(self, name, argv, timeout=600, env=None, expect_status=0):
        self.name, self.argv, self.timeout = name, argv, timeout
        self.env, self.expect_status = env or {}, expect_status

    def run(self, log_path):
        env = dict(os.environ, **self.env)
        t0 = time.monotonic()
        try:
            r = subprocess.run(self.argv, cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=self.timeout)
            out, ok = r.stdout + r.stderr, r.returncode == self.expect_status
            if not ok:
                out += f"\n[exit status {r.returncode}, expected {self.expect_status}]\n"
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace") + (e.stderr or b"").decode(errors="replace")
            out += f"\n[timed out after {self.timeout}s]\n"
            ok = False
        with open(log_path, "w") as f:
            f.write(out)
        return ok, out, time.monotonic() - t0


class CliSuite(Suite):
    """The CLI's own contract: errors name what was wrong and exit non-zero."""

    CASES = [
        (["frobnicate"], 2, "frobnicate"),
        (["test", "--frobnicate"], 2, "--frobnicate"),
        (["bench", "--compare", "xen"], 2, "not available yet"),
        (["run"], 2, "not available yet"),
        (["image", "configs/demo.cfg", "-o", "/tmp/x.iso"], 2, "not available yet"),
        (["--help"], 0, "./vireo test"),
        (["test", "--help"], 0, "FILTER"),
        (["bench", "--help"], 0, "--compare"),
    ]

    def __init__(self):
        super().__init__("cli/errors-and-help", [])

    def run(self, log_path):
        t0, lines, ok = time.monotonic(), [], True
        for args, status, needle in self.CASES:
            r = subprocess.run([os.path.join(ROOT, "vireo"), *args], capture_output=True, text=True)
            good = r.returncode == status and needle in (r.stdout + r.stderr)
            ok &= good
            lines.append(f"{'ok  ' if good else 'FAIL'} ./vireo {' '.join(args)}: exit {r.returncode} "
                         f"(want {status}), output {'names' if needle in r.stdout + r.stderr else 'lacks'} {needle!r}")
        out = "\n".join(lines) + "\n"
        with open(log_path, "w") as f:
            f.write(out)
        return ok, out, time.monotonic() - t0


def unit_test_names():
    """Every tests/test_NAME.c is a hosted test program, built in each variant."""
    names = [f[len("test_"):-2] for f in os.listdir(os.path.join(ROOT, "tests"))
             if f.startswith("test_") and f.endswith(".c")]
    return sorted(names, key=lambda n: (n.endswith("_stress"), n))


def all_suites():
    suites = []
    # TSan needs the classic address-space layout; setarch -R keeps it working
    # on kernels with high mmap randomisation.
    for v in ("plain", "asan", "tsan"):
        wrap = ["setarch", "x86_64", "-R"] if v == "tsan" else []
        env = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
               "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
               "TSAN_OPTIONS": "halt_on_error=1:second_deadlock_stack=1"}
        for t in unit_test_names():
            kind = "stress" if t.endswith("_stress") else "unit"
            unit = t.removesuffix("_stress")
            suites.append(Suite(f"{kind}/{v}/{unit}", wrap + [f"out/{v}/tests/test_{t}"], env=env))
    suites.append(Suite("bench/smoke", ["out/plain/bench/vireo-bench", "--benchmark_min_time=0.01"]))
    suites.append(Suite("perfgate", ["ci/perfgate"]))
    suites.append(Suite("perfgate/selftest", ["ci/perfgate", "--selftest"]))
    suites.append(CliSuite())
    return suites


def cmd_test(args):
    suites = [s for s in all_suites() if not args.filter or any(f in s.name for f in args.filter)]
    if not suites:
        fail(f"no test suite matches {' '.join(args.filter)!r} (try ./vireo test --list)")
    if args.list:
        for s in all_suites():
            say(s.name)
        return 0
    if not setup_and_build():
        say("FAIL  build (ninja): see the output above")
        say("0 passed, 1 failed")
        return 1
    logs = os.path.join(OUT, "test-logs")
    os.makedirs(logs, exist_ok=True)
    passed = failed = 0
    width = max(len(s.name) for s in suites)
    for s in suites:
        ok, out, secs = s.run(os.path.join(logs, s.name.replace("/", "_") + ".log"))
        say(f"{'PASS' if ok else 'FAIL'}  {s.name.ljust(width)}  {secs:6.1f}s")
        if ok:
            passed += 1
        else:
            failed += 1
            tail = out.strip().splitlines()[-40:]
            say("      " + "\n      ".join(tail))
    say(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


# ---- bench --------------------------------------------------------------------

def cmd_bench(args):
    if args.compare:
        fail(f"--compare {args.compare}: not available yet: comparing against Xen and full "
             "virtualization needs the bootable image and the benchmark guest (issues 4 and 5)")
    if not setup_and_build(["bench"]):
        fail("build failed", 1)
    os.makedirs(os.path.join(OUT, "bench"), exist_ok=True)
    out_json = os.path.join(OUT, "bench", "hosted.json")
    cmd = [os.path.join(OUT, "plain", "bench", "vireo-bench"),
           f"--benchmark_out={out_json}", "--benchmark_out_format=json",
           f"--benchmark_min_time={args.min_time}",
           f"--benchmark_repetitions={args.repetitions}",
           "--benchmark_enable_random_interleaving=true",
           "--benchmark_report_aggregates_only=true"]
    if args.filter:
        cmd.append(f"--benchmark_filter={args.filter}")
    say(f"vireo bench: hosted microbenchmarks, {args.repetitions} interleaved repetitions each "
        f"(median reported) -> {os.path.relpath(out_json, ROOT)}")
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        fail("the benchmark program reported an error (see above)", 1)
    with open(out_json) as f:
        data = json.load(f)
    print_ring_table(data)
    return 0


def medians(data):
    """{run_name: benchmark entry} for the median aggregates."""
    res = {}
    for b in data.get("benchmarks", []):
        if b.get("aggregate_name") == "median":
            res[b["run_name"]] = b
    return res


def print_ring_table(data):
    med = medians(data)
    ctx = data.get("context", {})
    say(f"\nhost: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs at "
        f"{ctx.get('mhz_per_cpu', '?')} MHz; hosted build (Linux process), two threads on two cores")

    def ns(name):
        b = med.get(name)
        return b["real_time"] if b and b.get("time_unit") == "ns" else None

    batches = sorted({int(k.split("/")[2]) for k in med if k.startswith("ring/vireo/")})
    if batches:
        say("\nring throughput, ns per item (lower is better); ratio = Vireo's throughput / reference's")
        say(f"{'batch':>5}  {'vireo':>8}  {'+notify':>8}  {'reference':>9}  {'vireo/ref':>9}  goal")
        summary = []
        for bsz in batches:
            v = ns(f"ring/vireo/{bsz}/real_time")
            vn = ns(f"ring/vireo_notify/{bsz}/real_time")
            ref = ns(f"ring/reference/{bsz}/real_time")
            ratio = ref / v if v and ref else None
            goal = ""
            if ratio is not None and bsz >= 32:
                goal = "met (>= 0.9)" if ratio >= 0.9 else "MISSED (< 0.9)"
            fmt = lambda x: f"{x:8.2f}" if x is not None else f"{'-':>8}"
            say(f"{bsz:>5}  {fmt(v)}  {fmt(vn)}  {fmt(ref):>9}  "
                f"{(f'{ratio:.2f}x' if ratio else '-'):>9}  {goal}")
            summary.append({"batch": bsz, "vireo_ns": v, "vireo_notify_ns": vn,
                            "reference_ns": ref, "ratio": ratio})
        with open(os.path.join(OUT, "bench", "ring-summary.json"), "w") as f:
            json.dump({"machine": "hosted", "context": ctx, "ring": summary}, f, indent=2)
    pp = ns("ring/pingpong/0/real_time") or ns("ring/pingpong/real_time")
    if pp:
        say(f"\ncache-line ping-pong between the two cores: {pp:.0f} ns per round trip "
            f"(one transfer ~{pp / 2:.0f} ns): the physical floor for a notification")


# ---- not yet ------------------------------------------------------------------

def cmd_run(args):
    fail("run: not available yet: the bootable image (issue 4) is not built yet. "
         "Today Vireo is the hosted build: ./vireo test and ./vireo bench")


def cmd_image(args):
    fail("image: not available yet: the bootable image and its GRUB ISO come with issue 4")


def main():
    ap = argparse.ArgumentParser(
        prog="./vireo",
        description="Vireo, a paravirtualizing x86-64 hypervisor: build, test, benchmark, boot.",
        epilog="Start with: ./vireo run   (boot the default configuration under QEMU)\n"
               "            ./vireo test  (set up, build, run every test)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("test", help="set up, build, run every test; last line 'N passed, N failed'",
                       description="Install missing Debian packages, build, then run the hosted unit "
                                   "tests (plain, ASan+UBSan, TSan), the two-CPU ring stress tests, a "
                                   "benchmark smoke run, the instruction-count perf gate and its "
                                   "self-test, and the CLI's own checks.")
    p.add_argument("filter", nargs="*", metavar="FILTER",
                   help="run only the suites whose name contains one of these (e.g. tsan, ring)")
    p.add_argument("--list", action="store_true", help="list the suites and exit")
    p.set_defaults(fn=cmd_test)

    p = sub.add_parser("bench", help="run the microbenchmarks; JSON under out/bench/, a table on stdout",
                       description="Run the hosted microbenchmarks (Google Benchmark) with interleaved "
                                   "repetitions and print medians and ratios against the physical "
                                   "reference measured in the same run.")
    p.add_argument("--compare", metavar="xen,kvm",
                   help="also run against Xen and full virtualization (needs the image: not yet)")
    p.add_argument("--filter", metavar="REGEX", help="only benchmarks matching REGEX (e.g. ring/vireo)")
    p.add_argument("--repetitions", type=int, default=5, metavar="N", help="repetitions (default 5)")
    p.add_argument("--min-time", type=float, default=0.2, metavar="S",
                   help="minimum seconds per repetition (default 0.2)")
    p.set_defaults(fn=cmd_bench)

    p = sub.add_parser("run", help="boot CONFIG (default configs/demo.cfg) under QEMU (not yet)")
    p.add_argument("config", nargs="?", default="configs/demo.cfg", metavar="CONFIG")
    p.set_defaults(fn=cmd_run)

    p = sub.add_parser("image", help="make a GRUB-bootable ISO for a real server (not yet)")
    p.add_argument("config", metavar="CONFIG")
    p.add_argument("-o", dest="output", required=True, metavar="FILE")
    p.set_defaults(fn=cmd_image)

    args = ap.parse_args()
    sys.exit(args.fn(args))


if __name__ == "__main__":
    main()
