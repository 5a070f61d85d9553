"""./vireo: Vireo's one front end for users, CI and benchmarks.

Run through the ./vireo wrapper at the repository root, which makes sure
Debian's python3 is there. Every command that builds first runs ci/setup
(installs missing Debian packages) and ninja. The commands live in
ci/vireolib/: common (paths, messages, build), qemu (machines, configurations,
ISOs), suites (./vireo test), bench (./vireo bench).
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vireolib.bench import cmd_bench                                          # noqa: E402
from vireolib.common import OUT, ROOT, fail, say, setup_and_build              # noqa: E402
from vireolib.qemu import (STATUS_TEXT, config_modules, make_iso, qemu_argv,   # noqa: E402
                           qemu_version, read_config, run_qemu)
from vireolib.suites import cmd_test, fuzz_argv, fuzz_target_names            # noqa: E402


# ---- fuzz ---------------------------------------------------------------------

def cmd_fuzz(args):
    known = fuzz_target_names()
    names = args.target or known
    for n in names:
        if n not in known:
            fail(f"no fuzz target '{n}' (known: {', '.join(known)})")
    if not setup_and_build(["fuzzers"]):
        fail("build failed", 1)
    failed = 0
    for n in names:
        say(f"vireo fuzz: {n} for {args.seconds} s (corpus out/fuzz-corpus/{n}, "
            f"findings out/fuzz-crashes/{n}/)")
        r = subprocess.run(fuzz_argv(n, args.seconds), cwd=ROOT)
        if r.returncode != 0:
            failed += 1
            say(f"vireo fuzz: {n} FOUND A PROBLEM (exit {r.returncode}); reproduce with "
                f"out/fuzz/fuzz_{n} out/fuzz-crashes/{n}/<file>")
    say(f"{len(names) - failed} passed, {failed} failed")
    return 1 if failed else 0


# ---- run and image ---------------------------------------------------------

def cmd_run(args):
    if not setup_and_build(["image", "guests"]):
        fail("build failed", 1)
    cfg = read_config(args.config)
    cpus = args.smp or cfg["cpus"]
    memory = args.memory or cfg["machine_memory"]
    cmdline = " ".join(x for x in (cfg["hypervisor_cmdline"], args.append or "") if x)
    if re.search(r"[ ,]", os.path.abspath(args.config)):
        fail(f"{args.config}: QEMU's -initrd cannot take a path with a space or a comma; "
             "move the configuration")
    modules = config_modules(cfg, args.config)
    argv = qemu_argv(kernel=os.path.join(OUT, "image", "vireo.elf"), cmdline=cmdline, cpus=cpus,
                     memory=memory, modules=modules)
    say(f"vireo run: {os.path.relpath(args.config, ROOT) if args.config.startswith(ROOT) else args.config}"
        f" on {qemu_version()} (TCG, -cpu max, {cpus} CPUs, {memory})")
    status, _, qrc = run_qemu(argv, timeout=args.timeout)
    if status is None:
        fail(f"QEMU exited with {qrc} without a Vireo status (a triple fault, a QEMU error, or killed)", 3)
    say(f"vireo run: exit status {status} ({STATUS_TEXT[status]})")
    return status


def cmd_image(args):
    if not setup_and_build(["image", "guests"]):
        fail("build failed", 1)
    cfg = read_config(args.config)
    make_iso(cfg, args.config, args.output)
    say(f"vireo image: {args.output} (GRUB rescue image for BIOS and UEFI; Multiboot 2)")
    return 0


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
    p.add_argument("--compare", metavar="xen",
                   help="also boot the benchmark guest on Xen 4.17 (Debian's package, installed on "
                        "demand) under the same QEMU and print Vireo/Xen ratios; kvm: not yet")
    p.add_argument("--filter", metavar="REGEX", help="only benchmarks matching REGEX (e.g. ring/vireo)")
    p.add_argument("--hosted-only", action="store_true", help="skip the in-image benchmarks")
    p.add_argument("--repetitions", type=int, default=5, metavar="N", help="repetitions (default 5)")
    p.add_argument("--min-time", type=float, default=0.2, metavar="S",
                   help="minimum seconds per repetition (default 0.2)")
    p.set_defaults(fn=cmd_bench)

    p = sub.add_parser("fuzz", help="run the libFuzzer targets for longer than ./vireo test does",
                       description="Run each libFuzzer target (tests/fuzz_*.c) for SECONDS on its "
                                   "corpus in out/fuzz-corpus/; a finding is saved in "
                                   "out/fuzz-crashes/ and makes the exit status 1.")
    p.add_argument("target", nargs="*", metavar="TARGET", help="targets to run (default: all)")
    p.add_argument("--seconds", type=int, default=300, metavar="S", help="per target (default 300)")
    p.set_defaults(fn=cmd_fuzz)

    p = sub.add_parser("run", help="boot CONFIG (default configs/demo.cfg) under QEMU",
                       description="Set up, build, and boot the image with CONFIG under QEMU's "
                                   "emulator (TCG, -cpu max; KVM here cannot run ring-3 guest "
                                   "kernels). The serial console is this terminal; the exit status "
                                   "is Vireo's: 0 every domain ended normally, 1 a domain crashed, "
                                   "2 hypervisor panic, 3 no status (QEMU died or timed out), "
                                   "4 a domain could not be started (the others ended normally). "
                                   "$VIREO_QEMU selects another QEMU. CONFIG is a boot module "
                                   "for the hypervisor, followed by each domain's kernel and then "
                                   "its ramdisk, if it has one.")
    p.add_argument("config", nargs="?", default=os.path.join(ROOT, "configs", "demo.cfg"), metavar="CONFIG")
    p.add_argument("--smp", type=int, metavar="N", help="CPUs (default: the configuration's, else 2)")
    p.add_argument("--memory", "-m", metavar="SIZE", help="machine memory, e.g. 1G (default 1G)")
    p.add_argument("--append", metavar="OPTIONS", help="more hypervisor command-line options")
    p.add_argument("--timeout", type=float, metavar="S", help="kill QEMU after S seconds")
    p.set_defaults(fn=cmd_run)

    p = sub.add_parser("image", help="make a GRUB-bootable ISO (BIOS and UEFI) for a real server")
    p.add_argument("config", metavar="CONFIG")
    p.add_argument("-o", dest="output", required=True, metavar="FILE")
    p.set_defaults(fn=cmd_image)

    args = ap.parse_args()
    sys.exit(args.fn(args))


if __name__ == "__main__":
    main()
