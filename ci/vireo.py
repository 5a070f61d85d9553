"""./vireo: Vireo's one front end for users, CI and benchmarks.

Run through the ./vireo wrapper at the repository root, which makes sure
Debian's python3 is there. Every command that builds first runs ci/setup
(installs missing Debian packages) and ninja.
"""
import argparse
import json
import re
import os
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "out")
FUZZ_SMOKE_SECONDS = 15   # per target in ./vireo test; ./vireo fuzz runs longer


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
        except OSError as e:
            out, ok = f"cannot run {self.argv[0]}: {e.strerror} (is it in the build graph?)\n", False
        with open(log_path, "w") as f:
            f.write(out)
        return ok, out, time.monotonic() - t0


class CliSuite(Suite):
    """The CLI's own contract: errors name what was wrong and exit non-zero."""

    CASES = [
        (["frobnicate"], 2, "frobnicate"),
        (["test", "--frobnicate"], 2, "--frobnicate"),
        (["bench", "--compare", "kvm"], 2, "not available yet"),
        (["bench", "--compare", "vmware"], 2, "--compare vmware: unknown"),
        (["run", "/nonexistent.cfg"], 2, "/nonexistent.cfg: cannot read"),
        (["run", "tests/configs/nokernel.cfg"], 2, "nokernel.cfg:4: 'kernel': no such file"),
        (["run", "tests/configs/badkey.cfg"], 2, "badkey.cfg:2: unknown key 'colour'"),
        (["image", "tests/configs/badcmdline.cfg", "-o", "/tmp/vireo-never.iso"], 2,
         "badcmdline.cfg:1: 'hypervisor_cmdline' may hold only"),
        (["--help"], 0, "./vireo test"),
        (["test", "--help"], 0, "FILTER"),
        (["run", "--help"], 0, "exit status is Vireo's"),
        (["bench", "--help"], 0, "--compare"),
    ]

    def __init__(self):
        super().__init__("cli/errors-and-help", [])

    def run(self, log_path):
        t0, lines, ok = time.monotonic(), [], True
        for args, status, needle in self.CASES:
            r = subprocess.run([os.path.join(ROOT, "vireo"), *args], capture_output=True, text=True,
                               cwd=ROOT)
            good = r.returncode == status and needle in (r.stdout + r.stderr)
            ok &= good
            lines.append(f"{'ok  ' if good else 'FAIL'} ./vireo {' '.join(args)}: exit {r.returncode} "
                         f"(want {status}), output {'names' if needle in r.stdout + r.stderr else 'lacks'} {needle!r}")
        out = "\n".join(lines) + "\n"
        with open(log_path, "w") as f:
            f.write(out)
        return ok, out, time.monotonic() - t0


class BootSuite(Suite):
    """Boot the image under QEMU (TCG) and check its console output and exit status."""

    def __init__(self, name, expect_status=0, must=(), must_not=(), timeout=120, iso=None,
                 uefi=False, **qemu):
        super().__init__(name, [], timeout=timeout, expect_status=expect_status)
        self.must, self.must_not, self.qemu, self.iso, self.uefi = must, must_not, qemu, iso, uefi

    def run(self, log_path):
        t0 = time.monotonic()
        notes = []
        if self.iso:
            iso = os.path.join(OUT, "test-iso", "vireo.iso")
            os.makedirs(os.path.dirname(iso), exist_ok=True)
            try:
                make_iso(read_config(self.iso), self.iso, iso)
            except SystemExit:
                out = "making the ISO failed (see the message above)\n"
                with open(log_path, "w") as f:
                    f.write(out)
                return False, out, time.monotonic() - t0
            argv = qemu_argv(iso=iso, uefi=self.uefi, **self.qemu)
        else:
            q = dict(self.qemu)
            q["kernel"] = os.path.join(OUT, "image", q.pop("image", "vireo.elf"))
            config = q.pop("config", None)
            if config:
                try:
                    cfg = read_config(config)
                except SystemExit:
                    out = f"{config}: the host side refused it (see the message above)\n"
                    return False, out, time.monotonic() - t0
                q["modules"] = [f"{config} vireo-config"] + [f"{k} vireo-kernel" for k in cfg["kernels"]]
            argv = qemu_argv(**q)
        status, out, qrc = run_qemu(argv, timeout=self.timeout, echo=False)
        ok = status == self.expect_status
        if not ok:
            notes.append(f"[exit: QEMU {qrc} -> Vireo status {status}, expected {self.expect_status}]")
        for pat in self.must:
            if not re.search(pat, out, re.M):
                ok = False
                notes.append(f"[missing from the console: /{pat}/]")
        for pat in self.must_not:
            if re.search(pat, out, re.M):
                ok = False
                notes.append(f"[should not be on the console: /{pat}/]")
        out = " ".join(argv) + "\n" + out + "\n" + "\n".join(notes) + "\n"
        with open(log_path, "w") as f:
            f.write(out)
        return ok, out, time.monotonic() - t0


def rebased_guest(src, name, new_base):
    """A copy of a guest image whose Xen notes move it to new_base (VIRT_BASE, and ENTRY and
    HYPERCALL_PAGE with it): how an attacker would aim the domain builder elsewhere."""
    import struct
    data = bytearray(open(src, "rb").read())
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    notes = []
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 4:
            notes.append((p_offset, p_filesz))
    found = {}
    for off, size in notes:
        at = off
        while at + 12 <= off + size:
            namesz, descsz, ntype = struct.unpack_from("<III", data, at)
            desc = at + 12 + (namesz + 3) // 4 * 4
            if data[at + 12:at + 15] == b"Xen" and descsz == 8:
                found[ntype] = desc
            at = desc + (descsz + 3) // 4 * 4
    old_base, = struct.unpack_from("<Q", data, found[3])
    for ntype in (1, 2, 3):                       # ENTRY, HYPERCALL_PAGE, VIRT_BASE
        if ntype in found:
            v, = struct.unpack_from("<Q", data, found[ntype])
            struct.pack_into("<Q", data, found[ntype], (v - old_base + new_base) % 2**64)
    dst = os.path.join(OUT, "test-images", name)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    open(dst, "wb").write(data)
    return dst


class RebasedGuestSuite(BootSuite):
    """Boot a guest image rebased to new_base (made at run time from out/guests/hello.elf)."""

    def __init__(self, name, new_base, **kw):
        super().__init__(name, **kw)
        self.new_base = new_base

    def run(self, log_path):
        img = rebased_guest(os.path.join(OUT, "guests", "hello.elf"),
                            self.name.replace("/", "_") + ".elf", self.new_base)
        self.qemu["modules"] = [img]
        return super().run(log_path)


def boot_suites():
    banner = [r"^Vireo \S+: paravirtualizing x86-64 hypervisor", r"^  TSC +\d+\.\d+ MHz"]
    clean = [r"PANIC", r"hypervisor exception", r"did not come up"]
    demo = os.path.join(ROOT, "configs", "demo.cfg")
    hello = os.path.join(OUT, "guests", "hello.elf")
    return [
        BootSuite("boot/multiboot1-2cpu-1G", cpus=2, memory="1G",
                  must=banner + [r"loader +multiboot1", r"CPUs +2 up"], must_not=clean),
        BootSuite("boot/multiboot1-1cpu-128M", cpus=1, memory="128M",
                  must=banner + [r"CPUs +1 up", r"memory +12\d MiB RAM"], must_not=clean),
        BootSuite("boot/multiboot1-4cpu-4G", cpus=4, memory="4G",
                  must=banner + [r"CPUs +4 up", r"memory +40\d\d MiB RAM"], must_not=clean),
        BootSuite("boot/cpu-without-nx-and-1g-pages", cpu="max,-nx,-pdpe1gb", cpus=2, memory="256M",
                  must=banner + [r"CPUs +2 up"], must_not=clean),
        BootSuite("boot/pvh-2cpu", image="vireo-pvh.elf", cpus=2, memory="512M",
                  must=banner + [r"loader +pvh", r"CPUs +2 up"], must_not=clean),
        BootSuite("boot/modules-and-args", cpus=2, memory="512M", cmdline="console=com1",
                  modules=[f"{demo} first module args", f"{demo} second"],
                  must=banner + [r"modules +2", r"\[0\] .*args: first module args$",
                                 r"\[1\] .*args: second$"], must_not=clean),
        BootSuite("boot/bad-cmdline-option", cpus=2, memory="256M",
                  cmdline="frobnicate=1 dom0_mem=lots com1=9600,7e2 console=com1",
                  must=banner + [r"option 'frobnicate=1' ignored: unknown option",
                                 r"option 'dom0_mem=lots' ignored: expected a size",
                                 r"option 'com1=9600,7e2' ignored: only 8n1"], must_not=clean),
        BootSuite("boot/exception-selftest", expect_status=2, cpus=2, memory="256M",
                  cmdline="vireo.selftest=exception",
                  must=[r"hypervisor exception: vector 14 \(#PF page fault\)", r"cr2 0000000000000010",
                        r"^  rip ffff82d0", r"backtrace", r"^PANIC: exception 14"]),
        BootSuite("boot/wx-text-is-read-only", expect_status=2, cpus=1, memory="128M",
                  cmdline="vireo.selftest=write-text",
                  must=[r"vector 14 \(#PF page fault\)", r"faulting address: protection, write, data",
                        r"^PANIC: exception 14"]),
        BootSuite("boot/wx-data-is-not-executable", expect_status=2, cpus=1, memory="128M",
                  cmdline="vireo.selftest=exec-data",
                  must=[r"vector 14 \(#PF page fault\)", r"protection, read, instruction fetch",
                        r"^PANIC: exception 14"]),
        BootSuite("boot/in-image-benchmarks", cpus=2, memory="512M", cmdline="vireo.bench", timeout=240,
                  must=[r'"name":"ring/vireo/32"', r'"name":"ring/reference/256"',
                        r'"name":"ipi/round_trip"', r'"name":"timer/latency"'],
                  must_not=clean + [r"lost or corrupted"]),
        BootSuite("boot/guest-benchmarks", cpus=1, memory="256M", cmdline="dom0_mem=16M",
                  modules=[os.path.join(OUT, "guests", "bench.elf")], timeout=240,
                  must=[r'^\(d0\) \{"vireo_bench":1,"name":"guest/hypercall_null","cycles_per_op":\d',
                        r'"name":"guest/sched_yield"', r'"name":"guest/hypercall_copy"',
                        r"^domain 0: shut down \(poweroff\)"],
                  must_not=clean + [r"failed"]),
        BootSuite("boot/guest-hello", cpus=2, memory="512M", cmdline="dom0_mem=32M",
                  modules=[f"{hello} hello-args"],
                  must=[r"^domain 0 \(dom0\): Vireo-test, 32 MiB", r"^\(d0\) hello from a Vireo PV guest",
                        r'cmd_line +"hello-args"', r"flags +0x3$", r"magic +\"xen-3\.0-x86_64\"",
                        r"unknown hypercall: -38 \(ENOSYS\) ok", r"bad pointer: -14 \(EFAULT\) ok",
                        r"hypercall page: \d+ \(same as syscall\) ok",
                        r"cpuid 0x40000000 signature: 0 \(XenVMMXenVMM\) ok",
                        r"hypercall page by MSR: \d+ \(same as syscall\) ok",
                        r"read through FS: \d+ \(the variable\) ok", r"non-canonical FS base: -22",
                        r"stack_switch: 0 \(ok\) ok", r"stack_switch bad SS: -22",
                        r"features: submap 0 = 0x810$", r"hypervisor range starts at 0xffff800000000000",
                        r"^domain 0: shut down \(poweroff\)"],
                  must_not=clean + [r"FAIL"]),
        BootSuite("boot/guest-crash-status", expect_status=1, cpus=1, memory="256M",
                  modules=[f"{hello} crash"],
                  must=[r"^domain 0: shut down \(crash\)", r"every domain has ended \(one crashed\)"]),
        BootSuite("attack/guest-reads-hypervisor", expect_status=1, cpus=1, memory="256M",
                  modules=[f"{hello} attack=read-hypervisor"],
                  must=[r"^domain 0: crashed: exception 14 at rip 0xffffffff8", r"cr2 0xffff830000000000"],
                  must_not=[r"PANIC", r"hello: done"]),
        BootSuite("attack/guest-console-flood", cpus=1, memory="256M",
                  modules=[f"{hello} attack=console-flood"], timeout=120,
                  must=[r"^\(d0\) \[\d+ bytes of console output dropped\]",
                        r"^domain 0: shut down \(poweroff\)"],     # it ran on to its end
                  must_not=clean),
        BootSuite("attack/guest-port-io", expect_status=1, cpus=1, memory="256M",
                  modules=[f"{hello} attack=port-io"],
                  must=[r"^domain 0: crashed: exception 13 at rip 0xffffffff8"],
                  must_not=[r"PANIC", r"hello: done"]),
        BootSuite("attack/guest-writes-cr3", expect_status=1, cpus=1, memory="256M",
                  modules=[f"{hello} attack=write-cr3"],
                  must=[r"^domain 0: crashed: exception 13 at rip 0xffffffff8"],
                  must_not=[r"PANIC", r"hello: done"]),
        BootSuite("boot/guest-traps", cpus=1, memory="256M", cmdline="dom0_mem=16M",
                  modules=[os.path.join(OUT, "guests", "traps.elf")],
                  must=[r"ud2 -> #UD +vector 6 error 0x0 ok", r"int3 -> #BP +vector 3 .* ok",
                        r"int \$0x80 \(DPL 3 entry\) +vector 128 .* ok", r"mov to cr3 -> #GP +vector 13 .* ok",
                        r"hypervisor read -> #PF +vector 14 error 0x5 ok", r"divide by zero -> #DE +vector 0 .* ok",
                        r"handler in hypervisor range +-1 ok", r"old table still in force .* ok",
                        r"non-canonical handler +-22 ok", r"table at a bad pointer +-14 ok",
                        r"x87 with TS set -> #NM +vector 7 .* ok", r"x87 after fpu_taskswitch\(0\) .* ok",
                        r"8 exceptions handled, 0 failure",
                        r"^domain 0: shut down \(poweroff\)"],
                  must_not=clean + [r"FAIL"]),
        BootSuite("attack/guest-iret-forged-cs", expect_status=1, cpus=1, memory="256M",
                  modules=[f"{os.path.join(OUT, 'guests', 'traps.elf')} attack=bad-iret"],
                  must=[r"iret with a forged CS", r"^domain 0: crashed: exception 13"],
                  must_not=[r"PANIC"]),
        BootSuite("boot/config-three-domains-two-cpus", cpus=2, memory="512M",
                  config=os.path.join(ROOT, "configs", "multi.cfg"), timeout=240,
                  must=[r"^domain 0 \(hello\)", r"^domain 1 \(traps\)", r"^domain 2 \(bench\)",
                        r'cmd_line +"hello from the multi configuration"',
                        r"^\(d1\) traps: 8 exceptions handled, 0 failure", r'^\(d2\) \{"vireo_bench"',
                        r"^domain 0: shut down \(poweroff\)", r"^domain 1: shut down \(poweroff\)",
                        r"^domain 2: shut down \(poweroff\)", r"every domain has ended; stopping"],
                  must_not=clean + [r"FAIL"]),
        BootSuite("boot/config-one-bad-kernel", cpus=2, memory="512M",
                  config=os.path.join(ROOT, "tests", "configs", "onebad.cfg"),
                  must=[r"^elf: not an ELF image", r"^domain 0 \(notelf\): kernel image refused", r"^\(d1\) hello: done",
                        r"^domain 1: shut down \(poweroff\)"],
                  must_not=clean),
        BootSuite("boot/config-malformed", cpus=1, memory="256M",
                  config=os.path.join(ROOT, "tests", "configs", "malformed.cfg"),
                  must=[r"^config: vireo\.cfg:7: 'memory': expected a number of MiB",
                        r"configuration is refused; no domain started"],
                  must_not=clean + [r"hello: done"]),
        RebasedGuestSuite("attack/kernel-in-hypervisor-image-range", 0xFFFF82D080000000, cpus=1,
                          memory="256M", must=[r"^domain 0 \(dom0\): cannot build \(-22\)",
                                               r"no domain to run; stopping"],
                          must_not=clean + [r"hello: done"]),
        RebasedGuestSuite("attack/kernel-in-direct-map", 0xFFFF830000000000, cpus=1, memory="256M",
                          must=[r"^domain 0 \(dom0\): cannot build \(-22\)"],
                          must_not=clean + [r"hello: done"]),
        RebasedGuestSuite("attack/kernel-across-lower-half-end", 0x00007FFFFFFF0000, cpus=1,
                          memory="256M", must=[r"cannot build \(-22\)|kernel image refused"],
                          must_not=clean + [r"hello: done"]),
        BootSuite("boot/guest-bad-image", cpus=1, memory="256M", modules=[f"{demo} not-an-elf"],
                  must=[r"^elf: not an ELF image \(bad magic\)", r"^domain 0 \(dom0\): kernel image refused"],
                  must_not=[r"PANIC"]),
        BootSuite("boot/iso-seabios", iso=demo, cpus=2, memory="512M", timeout=180,
                  must=banner + [r"loader +multiboot2", r"CPUs +2 up", r"args: vireo-config"],
                  must_not=clean),
        BootSuite("boot/iso-ovmf", iso=demo, uefi=True, cpus=2, memory="512M", timeout=240,
                  must=banner + [r"loader +multiboot2", r"CPUs +2 up"], must_not=clean),
    ]


def fuzz_target_names():
    """Every tests/fuzz_NAME.c is a libFuzzer target, built as out/fuzz/fuzz_NAME."""
    return sorted(f[len("fuzz_"):-2] for f in os.listdir(os.path.join(ROOT, "tests"))
                  if f.startswith("fuzz_") and f.endswith(".c"))


def fuzz_argv(name, seconds):
    """libFuzzer on its own corpus in out/ (seeded from tests/fuzz_corpus/NAME when present)."""
    corpus = os.path.join(OUT, "fuzz-corpus", name)
    os.makedirs(corpus, exist_ok=True)
    seeds = os.path.join(ROOT, "tests", "fuzz_corpus", name)
    argv = [os.path.join(OUT, "fuzz", f"fuzz_{name}"), f"-max_total_time={seconds}",
            "-close_fd_mask=2", "-print_final_stats=1",
            f"-artifact_prefix={os.path.join(OUT, 'fuzz-crashes', name)}/", corpus]
    os.makedirs(os.path.join(OUT, "fuzz-crashes", name), exist_ok=True)
    if os.path.isdir(seeds):
        argv.append(seeds)
    return argv


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
    for name in fuzz_target_names():
        suites.append(Suite(f"fuzz/{name}", fuzz_argv(name, FUZZ_SMOKE_SECONDS),
                            timeout=FUZZ_SMOKE_SECONDS + 120))
    suites.append(Suite("bench/smoke", ["out/plain/bench/vireo-bench", "--benchmark_min_time=0.01"]))
    suites.append(Suite("perfgate", ["ci/perfgate"]))
    suites.append(Suite("perfgate/selftest", ["ci/perfgate", "--selftest"]))
    suites.append(CliSuite())
    suites += boot_suites()
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


# ---- bench --------------------------------------------------------------------

def cmd_bench(args):
    compare = [c.strip() for c in (args.compare or "").split(",") if c.strip()]
    for c in compare:
        if c == "kvm":
            fail("--compare kvm: not available yet: the full-virtualization side (the benchmark "
                 "workload in a KVM/TCG guest) is not written")
        if c != "xen":
            fail(f"--compare {c}: unknown; known: xen (kvm not yet)")
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
    if not args.hosted_only:
        image_bench(args, data, compare_xen="xen" in compare)
    return 0


XEN_PACKAGE = "xen-hypervisor-4.17-amd64"
XEN_IMAGE = "/boot/xen-4.17-amd64.gz"


def xen_image():
    """Xen 4.17 from Debian, unpacked for QEMU's -kernel (Multiboot 1, ELF32)."""
    if not os.path.exists(XEN_IMAGE):
        say(f"vireo bench: installing {XEN_PACKAGE} from Debian for the comparison")
        if os.geteuid() != 0:
            fail(f"--compare xen needs {XEN_PACKAGE}: run as root: apt-get install {XEN_PACKAGE}")
        r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", XEN_PACKAGE],
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if r.returncode != 0 or not os.path.exists(XEN_IMAGE):
            fail(f"cannot install {XEN_PACKAGE}", 1)
    out = os.path.join(OUT, "xen", "xen-4.17")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    import gzip
    with gzip.open(XEN_IMAGE) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return out


def xen_bench():
    """The same benchmark guest as Xen 4.17's dom0, under the same QEMU (TCG)."""
    argv = qemu_argv(kernel=xen_image(), cmdline="console=com1 com1=115200,8n1 dom0_mem=64M",
                     cpus=2, memory="512M", modules=[os.path.join(OUT, "guests", "bench.elf")])
    # Xen halts instead of powering off when dom0 shuts down: stop at the guest's last line.
    status, out, qrc = run_qemu(argv, timeout=900, echo=False, stop_on=r"^bench: done")
    results = parse_bench_lines(out)
    if not results:
        say("  Xen did not run the benchmark guest; its console:\n" + out[-3000:])
    return results


def image_bench(args, hosted=None, compare_xen=False):
    """The in-image benchmarks, under TCG and (where it exists) KVM: JSON lines from the console."""
    if not setup_and_build(["image", "guests"]):
        fail("image build failed", 1)
    accels = ["tcg"]
    if os.access("/dev/kvm", os.R_OK | os.W_OK):
        accels.append("kvm")   # these benchmarks never enter a guest, so KVM is fair here
    columns = {}
    for accel in accels:
        say(f"\nvireo bench: in-image benchmarks under {qemu_version()}, accel {accel}, 2 CPUs")
        # The hypervisor's own benchmarks (vireo.bench), then the benchmark guest as domain 0.
        # Under KVM only the hypervisor's: they never enter ring 3, which a nested software
        # KVM cannot run (DESIGN.md decision 3).
        guest = [os.path.join(OUT, "guests", "bench.elf")] if accel == "tcg" else []
        argv = qemu_argv(kernel=os.path.join(OUT, "image", "vireo.elf"),
                         cmdline="vireo.bench dom0_mem=16M", cpus=2, memory="512M", accel=accel,
                         modules=guest)
        status, out, qrc = run_qemu(argv, timeout=600, echo=False)
        results = parse_bench_lines(out)
        if status != 0 or not results:
            say(f"  the image did not finish cleanly (QEMU {qrc}); its console:\n" + out[-3000:])
            continue
        path = os.path.join(OUT, "bench", f"image-{accel}.json")
        with open(path, "w") as f:
            json.dump({"machine": "emu", "accel": accel, "qemu": qemu_version(),
                       "results": list(results.values())}, f, indent=2)
        columns[accel] = results
    if not columns:
        return
    say("\nin-image results (hypervisor in ring 0, benchmark guest in ring 3; TSC-timed): "
        "ns per item, round trip, interrupt or hypercall")
    names = sorted({n for col in columns.values() for n in col},
                   key=lambda n: (n.split("/")[0], n.split("/")[1],
                                  int(n.split("/")[2]) if n.count("/") == 2 and n.split("/")[2].isdigit() else 0))
    head = f"{'benchmark':<22}" + "".join(f"{'emu/' + a:>14}" for a in columns)
    say(head)
    for n in names:
        say(f"{n:<22}" + "".join(f"{columns[a][n]['ns_per_item']:>14.2f}" if n in columns[a] else f"{'-':>14}"
                                 for a in columns))
    print_ring_ratios(hosted, columns)
    if compare_xen and "tcg" in columns:
        say(f"\nvireo bench: the benchmark guest as dom0 of Xen 4.17 ({XEN_PACKAGE}), same QEMU")
        xen = xen_bench()
        if xen:
            with open(os.path.join(OUT, "bench", "xen-tcg.json"), "w") as f:
                json.dump({"machine": "emu", "accel": "tcg", "qemu": qemu_version(),
                           "hypervisor": XEN_PACKAGE, "results": list(xen.values())}, f, indent=2)
            say("guest benchmarks, TSC cycles per operation on the same emulated CPU "
                "(lower is better):")
            say(f"{'benchmark':<24}{'Vireo':>10}{'Xen 4.17':>10}{'Vireo/Xen':>11}")
            for name in sorted(n for n in xen if n.startswith("guest/")):
                v = columns["tcg"].get(name, {}).get("cycles_per_op")
                x = xen[name].get("cycles_per_op")
                ratio = f"{v / x:.2f}x" if v and x else "-"
                say(f"{name:<24}{(f'{v:.0f}' if v else '-'):>10}{(f'{x:.0f}' if x else '-'):>10}{ratio:>11}")
            say("(emulated cycles: ratios, not real-hardware costs; sched_yield is not like for like "
                "yet: Vireo has no scheduler, so its yield returns at once)")


def parse_bench_lines(console):
    """JSON result lines from the hypervisor and from guests ("(dN) " prefix); guest
    figures come in TSC cycles and get ns from the TSC frequency in the boot banner."""
    results, mhz = {}, None
    m = re.search(r"^  TSC +(\d+\.\d+) MHz", console, re.M)
    if m:
        mhz = float(m.group(1))
    for line in console.splitlines():
        line = re.sub(r"^\(d\d+\) ", "", line)
        if not line.startswith('{"vireo_bench"'):
            continue
        try:
            r = json.loads(line)
            if "ns_per_item" not in r and "cycles_per_op" in r and mhz:
                r["ns_per_item"] = r["cycles_per_op"] / mhz * 1000
            results[r["name"]] = r
        except (json.JSONDecodeError, KeyError):
            say(f"  unreadable result line: {line[:120]}")
    return results


def print_ring_ratios(hosted, columns):
    """Vireo's ring as a ratio of the reference ring, one column per machine."""
    def ratio(v, r):
        return f"{r / v:.2f}x" if v and r else "-"
    say("\nring, Vireo / reference throughput, each measured in one run on one machine:")
    say(f"{'batch':>5}  {'hosted':>8}" + "".join(f"  {'emu/' + a:>9}" for a in columns))
    hmed = medians(hosted) if hosted else {}
    for bsz in (1, 8, 32, 256):
        hv = hmed.get(f"ring/vireo/{bsz}/real_time", {}).get("real_time")
        hr = hmed.get(f"ring/reference/{bsz}/real_time", {}).get("real_time")
        row = f"{bsz:>5}  {ratio(hv, hr):>8}"
        for col in columns.values():
            v, r = col.get(f"ring/vireo/{bsz}"), col.get(f"ring/reference/{bsz}")
            row += f"  {ratio(v and v['ns_per_item'], r and r['ns_per_item']):>9}"
        say(row)


def medians(data):
    """{run_name: benchmark entry} for the median aggregates."""
    res = {}
    for b in data.get("benchmarks", []):
        if b.get("aggregate_name") == "median":
            res[b["run_name"]] = b
        elif b.get("run_type") == "iteration" and b["run_name"] not in res:
            res[b["run_name"]] = b    # a single repetition has no aggregates
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


# ---- run and image ---------------------------------------------------------

# QEMU's isa-debug-exit exits with (value << 1) | 1; Vireo writes its status there.
QEMU_STATUS = {1: 0, 3: 1, 5: 2}
STATUS_TEXT = {0: "every domain ended normally", 1: "a domain crashed", 2: "hypervisor panic"}
MACHINE_KEYS = ("hypervisor_cmdline", "cpus", "machine_memory")


def strip_comment(line):
    """The line without its comment: '#' outside a double-quoted string."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return line[:i]
    return line


def read_config(path):
    """What the host needs from a configuration: the machine settings before the first
    [domain], and each domain's kernel file (checked to exist). The hypervisor reads the
    same file as a boot module and checks everything else (core/config.c)."""
    cfg = {"hypervisor_cmdline": "", "cpus": 2, "machine_memory": "1G", "kernels": []}
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        fail(f"{path}: cannot read: {e.strerror}")
    in_domain = False
    for n, raw in enumerate(lines, 1):
        line = strip_comment(raw).strip()
        if not line:
            continue
        if line.startswith("["):
            if line.replace(" ", "") != "[domain]":
                fail(f"{path}:{n}: unknown section {line!r} (only [domain])")
            in_domain = True
            continue
        if "=" not in line:
            fail(f"{path}:{n}: expected 'key = value', got {line!r}")
        key, val = (x.strip() for x in line.split("=", 1))
        quoted = len(val) >= 2 and val[0] == val[-1] == '"'
        if quoted:
            val = val[1:-1]
        if in_domain:
            if key == "kernel":
                kpath = val if os.path.isabs(val) else os.path.join(ROOT, val)
                if not os.path.isfile(kpath):
                    fail(f"{path}:{n}: 'kernel': no such file {val!r} (build it with ./vireo test "
                         "or ninja, or fix the path)")
                if re.search(r"[ ,]", kpath):
                    fail(f"{path}:{n}: 'kernel': QEMU's -initrd cannot take a path with a space or comma")
                cfg["kernels"].append(kpath)
            continue              # the hypervisor checks the rest of a domain
        if key not in MACHINE_KEYS:
            fail(f"{path}:{n}: unknown key '{key}' before any [domain] (known: {', '.join(MACHINE_KEYS)})")
        if key == "cpus":
            if not val.isdigit() or not 1 <= int(val) <= 64:
                fail(f"{path}:{n}: 'cpus' must be a number from 1 to 64, got {val!r}")
            val = int(val)
        if key == "hypervisor_cmdline" and not re.fullmatch(r"[A-Za-z0-9_.,=:/+ -]*", val):
            fail(f"{path}:{n}: 'hypervisor_cmdline' may hold only letters, digits, spaces and "
                 f"_.,=:/+- (it goes into a GRUB script), got {val!r}")
        if key == "machine_memory" and not re.fullmatch(r"\d+[MG]", val):
            fail(f"{path}:{n}: 'machine_memory' must look like 512M or 4G, got {val!r}")
        cfg[key] = val
    return cfg


def qemu_binary():
    return os.environ.get("VIREO_QEMU", "qemu-system-x86_64")


def qemu_version():
    try:
        out = subprocess.run([qemu_binary(), "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0] if out else "unknown"
    except OSError:
        return "not found"


def qemu_argv(kernel=None, iso=None, cmdline="", cpus=2, memory="1G", modules=(), uefi=False,
              accel="tcg", cpu=None):
    argv = [qemu_binary(), "-accel", accel, "-cpu", cpu or ("max" if accel == "tcg" else "host"),
            "-smp", str(cpus), "-m", memory,
            "-display", "none", "-vga", "none", "-no-reboot", "-serial", "stdio", "-monitor", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if uefi:
        argv += ["-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd"]
    if iso:
        argv += ["-cdrom", iso, "-boot", "d"]
    else:
        argv += ["-kernel", kernel, "-append", cmdline]
        if modules:
            # QEMU's Multiboot loader takes "file args,file args"; a comma in a name would split it.
            argv += ["-initrd", ",".join(modules)]
    return argv


def run_qemu(argv, timeout=None, echo=True, stop_on=None):
    """Run QEMU; returns (Vireo status or None, output, QEMU's exit code).

    The console is read on a thread of its own, so the timeout holds even when
    the machine hangs without printing anything. With stop_on, QEMU is stopped
    once a console line matches it (for machines that halt instead of exiting)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace")
    out = []

    def pump():
        for line in proc.stdout:
            out.append(line)
            if echo:
                sys.stdout.write(line)
                sys.stdout.flush()
            if stop_on and re.search(stop_on, line):
                proc.kill()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        reader.join(timeout=5)
        out.append(f"\n[vireo: QEMU killed after {timeout}s]\n")
        return None, "".join(out), proc.returncode
    except KeyboardInterrupt:
        proc.kill()
        raise
    reader.join(timeout=5)
    return QEMU_STATUS.get(proc.returncode), "".join(out), proc.returncode


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
    modules = [f"{os.path.abspath(args.config)} vireo-config"]
    modules += [f"{k} vireo-kernel" for k in cfg["kernels"]]
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


def make_iso(cfg, config_path, output):
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        boot = os.path.join(tmp, "boot")
        os.makedirs(os.path.join(boot, "grub"))
        shutil.copy(os.path.join(OUT, "image", "vireo.elf"), os.path.join(boot, "vireo.elf"))
        shutil.copy(config_path, os.path.join(boot, "vireo.cfg"))
        kernel_lines = ""
        for n, k in enumerate(cfg["kernels"]):
            shutil.copy(k, os.path.join(boot, f"kernel{n}.elf"))
            kernel_lines += f"  module2 /boot/kernel{n}.elf kernel{n}.elf vireo-kernel\n"
        with open(os.path.join(boot, "grub", "grub.cfg"), "w") as f:
            # GRUB passes a module's arguments without its file name; the first word is a
            # placeholder name, the convention Xen's GRUB entries follow.
            f.write("set timeout=0\nset default=0\n"
                    "serial --unit=0 --speed=115200\nterminal_input serial console\n"
                    "terminal_output serial console\n"
                    "menuentry 'Vireo' {\n"
                    f"  multiboot2 /boot/vireo.elf {cfg['hypervisor_cmdline']}\n"
                    "  module2 /boot/vireo.cfg vireo.cfg vireo-config\n"
                    + kernel_lines +
                    "  boot\n}\n")
        r = subprocess.run(["grub-mkrescue", "-o", os.path.abspath(output), tmp],
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"grub-mkrescue failed:\n{r.stderr[-3000:]}", 1)


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
                                   "2 hypervisor panic, 3 no status (QEMU died or timed out). "
                                   "$VIREO_QEMU selects another QEMU.")
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
