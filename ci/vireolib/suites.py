"""./vireo test: the suites, one line each, and the command that runs them."""
import os
import re
import subprocess
import time

from vireolib.common import OUT, ROOT, say, fail, setup_and_build
from vireolib.qemu import config_modules, make_iso, qemu_argv, read_config, run_qemu

FUZZ_SMOKE_SECONDS = 15   # per target in ./vireo test; ./vireo fuzz runs longer



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
        (["run", "tests/configs/notutf8.cfg"], 2, "notutf8.cfg:6: not UTF-8 text (byte 0xff at column 10)"),
        (["run", "tests/configs/noramdisk.cfg"], 2,
         "noramdisk.cfg:5: 'ramdisk': no such file 'tests/data/no-such-initrd.img'"),
        (["image", "tests/configs/noramdisk.cfg", "-o", "/tmp/vireo-never.iso"], 2,
         "noramdisk.cfg:5: 'ramdisk': no such file"),
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
                 uefi=False, feed=None, **qemu):
        super().__init__(name, [], timeout=timeout, expect_status=expect_status)
        self.must, self.must_not, self.qemu, self.iso, self.uefi = must, must_not, qemu, iso, uefi
        self.feed = feed                  # (console pattern, text to type then)

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
                q["modules"] = config_modules(cfg, config)
            argv = qemu_argv(**q)
        status, out, qrc = run_qemu(argv, timeout=self.timeout, echo=False, feed=self.feed)
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


def fnv1a32(data):
    """32-bit FNV-1a, as the hello guest computes it over its initrd."""
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def initrd_lines(path, domain):
    """What the hello guest (and the builder) print for the initrd in file path given to
    domain number `domain`, as console patterns: its length, checksum and first line, computed
    here from the file."""
    data = open(path, "rb").read()
    d = rf"^\(d{domain}\) "
    lines = [rf"^domain {domain} \(.*\): .*, initrd {len(data)} bytes at 0x[0-9a-f]+(, privileged)?$",
             rf"{d}  mod_start    0xffffffff8[0-9a-f]+ mod_len {len(data)}$",
             rf"{d}initrd: {len(data)} bytes at 0x[0-9a-f]+, fnv1a 0x{fnv1a32(data):08x}$"]
    first = re.split(rb"[\r\n]", data, maxsplit=1)[0]
    if first and len(first) <= 100 and all(0x20 <= b < 0x7F for b in first):
        lines.append(rf'{d}initrd: first line "{re.escape(first.decode())}"$')
    else:
        lines.append(rf"{d}initrd: does not start with a line of text$")
    return lines


class MadeInitrdSuite(BootSuite):
    """Boot with an initrd file made at run time under out/test-images/ (too big to commit,
    or empty): size bytes of a non-text pattern. A configuration may name it."""

    def __init__(self, name, initrd_name, size, **kw):
        super().__init__(name, **kw)
        self.initrd_name, self.size = initrd_name, size

    def run(self, log_path):
        path = os.path.join(OUT, "test-images", self.initrd_name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(bytes((i * 7 + 1) & 0xFF for i in range(min(self.size, 4096))) * (self.size // 4096) +
                    bytes(self.size % 4096))
        if "modules" in self.qemu:
            self.qemu["modules"] = [m.replace("@INITRD@", path) for m in self.qemu["modules"]]
        return super().run(log_path)


def boot_suites():
    banner = [r"^Vireo \S+: paravirtualizing x86-64 hypervisor", r"^  TSC +\d+\.\d+ MHz"]
    clean = [r"PANIC", r"hypervisor exception", r"did not come up"]
    demo = os.path.join(ROOT, "configs", "demo.cfg")
    hello = os.path.join(OUT, "guests", "hello.elf")
    initrd = os.path.join(ROOT, "tests", "data", "initrd.txt")
    initrd2 = os.path.join(ROOT, "tests", "data", "initrd-second.txt")
    mmu = os.path.join(OUT, "guests", "mmu.elf")
    mmu_report = r"^domain {}: mmu: \d+ batches, \d+ multicalls, \d+ entries, .*, {} continuations"
    mmu_work = [r"clear 1024 data frames: 0 in \d+ mmuext_op batches ok",
                r"5 table pages made read-only: 0 ok", r"pin the new L4 \(mfn 0x[0-9a-f]+\): 0 ok",
                r"map 1024 pages: 0, 1024 entries applied in \d+ mmu_update batches ok",
                r"walk of the new tables: 0 of 1024 entries wrong ok",
                r"NEW_BASEPTR to the new L4: 0 \(still running\) ok",
                r"pattern written through 1024 pages and read back: 0 bad words ok",
                r"accessed\+dirty set by the CPU in 1024 of 1024 L1 entries ok",
                r"COPY_PAGE data frame 0 -> 1: 0, 0 words differ ok", r"unpin the new L4: 0 ok",
                r"table pages writable again: 5 of 5 \(0\) ok",
                r"every data frame can be a page table again \(clear, PIN_L1, UNPIN\): 0 ok",
                r"workload: 3 rounds, 0 failure\(s\)"]
    mmu_attack = [r"L1 entry -> foreign frame, writable: -1 EPERM ok",
                  r"NEW_BASEPTR at a foreign frame: -1 EPERM ok",
                  r"update_va_mapping: the L4's own mapping \+ W: -16 EBUSY ok",
                  r"PIN_L1 of a table mapping the L4 writable: -16 EBUSY ok",
                  r"UNPIN a data frame \(never pinned\): -22 EINVAL ok", r"UNPIN it twice: -22 EINVAL ok",
                  r"NEW_BASEPTR at the all-ones page: -22 EINVAL ok",
                  r"NEW_BASEPTR at the L1-pinned page: -16 EBUSY ok",
                  r"L2 entry with PS \(2 MiB superpage\): -22 EINVAL ok",
                  r"L4 slot 256 \(hypervisor's\) := 0: -22 EINVAL ok",
                  r"SET_LDT over a writable-mapped page \(\.bss\): -16 EBUSY ok",
                  r"linear: L4 slot 3 -> the L4 itself, read-only: -16 EBUSY ok",
                  r"100000-entry mmu_update batch \(preempted, continued\): 0 ok", r"done == 100000: ok",
                  r"6-entry batch with a foreign frame in the 5th: -1 EPERM ok", r"done == 4: ok",
                  r"the first four are applied: ok", r"the 5th and 6th are not: ok",
                  r"multicall of 8 good and bad entries: 0 ok",
                  r"\[1\] update_va_mapping, the L4 writable: -16 EBUSY ok",
                  r"\[3\] mmu_update, foreign frame: -1 EPERM ok",
                  r"done == 50000 \(counted across continuations\): ok",
                  r"a write through the old address faults: ok", r"\*pdone did not land in the new L1: ok",
                  r"its hypervisor slots are the hypervisor's again: ok",
                  r"shared_info hooked in as an L1: -16 EBUSY ok", r"hypercall page MSR aimed at it: #GP: ok",
                  r"mov of a foreign frame: refused, a fault: ok",
                  r"a data frame can be an L1 again: 0 ok", r"attacks: \d+ cases, 0 failure\(s\)"]
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
        BootSuite("boot/modules-and-args", expect_status=4, cpus=2, memory="512M", cmdline="console=com1",
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
        BootSuite("boot/remote-tlb-flush-selftest", cpus=4, memory="256M", cmdline="vireo.selftest=tlb-flush",
                  must=banner + [r"selftest: remote TLB flushes on 4 CPUs: ok"], must_not=clean),
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
                        r'"name":"guest/sched_yield"', r'"name":"guest/hypercall_copy"'] +
                       [rf'"name":"guest/{n}","cycles_per_op":\d+\.\d+,"ops":\d+,"per":"entry","batch":{b}\}}'
                        for n, b in (("mmu_update_b1", 1), ("mmu_update_b8", 8), ("mmu_update_b64", 64),
                                     ("mmu_update_b512", 512), ("update_va_mapping", 1),
                                     ("update_va_mapping_invlpg", 1), ("multicall_uvm_b8", 8),
                                     ("multicall_uvm_b64", 64))] +
                       [r'"name":"guest/pin_unpin_l4","cycles_per_op":\d', r'"name":"guest/exception_int3","cycles_per_op":\d', r'"name":"guest/set_segment_base","cycles_per_op":\d',
                        r'"name":"guest/user_syscall","cycles_per_op":\d',
                        r'"name":"guest/event_upcall","cycles_per_op":\d', r"^\(d0\) bench: done",
                        r"^domain 0: shut down \(poweroff\)"],
                  must_not=clean + [r"failed", r"upcalls for"]),
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
                        r"mod_start    0x0 mod_len 0$", r"^\(d0\) initrd: none$",
                        r"^domain 0: shut down \(poweroff\)"],
                  must_not=clean + [r"FAIL"]),
        BootSuite("boot/guest-console-read", cpus=1, memory="256M", cmdline="dom0_mem=16M",
                  modules=[f"{hello} console-read"], feed=(r"hello: waiting for console input", "vireo rx 42\n"),
                  must=[r'^\(d0\) hello: console read "vireo rx 42"', r"^domain 0: shut down \(poweroff\)"],
                  must_not=clean + [r"FAIL"]),
        # Without a configuration the second module is dom0's initrd, as on Xen.
        BootSuite("boot/guest-hello-initrd", cpus=1, memory="256M", cmdline="dom0_mem=32M",
                  modules=[f"{hello} hello-args", f"{initrd} vireo-ramdisk"],
                  must=initrd_lines(initrd, 0) +
                       [r'cmd_line +"hello-args"', r"flags +0x3$", r"^\(d0\) hello: done",
                        r"^domain 0: shut down \(poweroff\)"],
                  must_not=clean + [r"FAIL"]),
        MadeInitrdSuite("boot/guest-hello-empty-initrd", "initrd-empty.bin", 0, cpus=1, memory="256M",
                        cmdline="dom0_mem=16M", modules=[hello, "@INITRD@ vireo-ramdisk"],
                        must=[r"mod_start    0x0 mod_len 0$", r"^\(d0\) initrd: none$",
                              r"^domain 0: shut down \(poweroff\)"],
                        must_not=clean + [r"FAIL", r"initrd \d+ bytes"]),
        MadeInitrdSuite("attack/initrd-too-big-for-dom0", "initrd-20M.bin", 20 << 20, expect_status=4, cpus=1,
                        memory="256M", cmdline="dom0_mem=16M", modules=[hello, "@INITRD@ vireo-ramdisk"],
                        must=[r"^domain 0 \(dom0\): cannot build \(-12\): its initrd does not fit its "
                              r"memory .*\(initrd 20971520 bytes, memory 16 MiB\); not started$",
                              r"no domain to run; stopping"],
                        must_not=clean + [r"hello: done"]),
        MadeInitrdSuite("attack/initrd-too-big-in-config", "initrd-20M.bin", 20 << 20, expect_status=4, cpus=1,
                        memory="256M", config=os.path.join(ROOT, "tests", "configs", "initrd-too-big.cfg"),
                        must=[r"^domain 0 \(too-big\): cannot build \(-12\): its initrd does not fit",
                              r"^\(d1\) hello: done", r"^domain 1: shut down \(poweroff\)"] +
                             initrd_lines(initrd, 1),
                        must_not=clean + [r"FAIL", r"^\(d0\)"]),
        BootSuite("boot/config-initrds", cpus=2, memory="256M",
                  config=os.path.join(ROOT, "tests", "configs", "initrd.cfg"), timeout=180,
                  must=initrd_lines(initrd, 0) + initrd_lines(initrd2, 2) +
                       [r"^domain 0 \(rd-first\)", r"^domain 1 \(rd-none\)", r"^domain 2 \(rd-second\)",
                        r'^\(d0\)   cmd_line     "first"$', r"^\(d1\)   mod_start    0x0 mod_len 0$",
                        r"^\(d1\) initrd: none$", r"args: vireo-ramdisk$"] +
                       [rf"^domain {i}: shut down \(poweroff\)" for i in range(3)],
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
        BootSuite("boot/guest-mmu-workload", cpus=1, memory="256M", cmdline="dom0_mem=32M",
                  modules=[mmu], timeout=120,
                  must=[r"^\(d0\) mmu: " + p for p in mmu_work] +
                       [r"^\(d0\) mmu: done, all ok", mmu_report.format(0, r"\d+"),
                        r"^domain 0: shut down \(poweroff\)"],
                  must_not=clean + [r"FAIL", r"console output dropped"]),
        BootSuite("attack/guest-mmu-escapes", cpus=1, memory="256M", cmdline="dom0_mem=32M",
                  modules=[f"{mmu} attack"], timeout=120,
                  must=[r"^\(d0\) mmu: .*" + p for p in mmu_attack] +
                       [r"L1 entry -> a frame past RAM \(privileged: I/O, allowed\): 0 ok",
                        r"L1 entry -> the local APIC \(the hypervisor's\): -1 EPERM ok",
                        r"L1 entry -> the I/O APIC \(the hypervisor's\): -1 EPERM ok",
                        r"^\(d0\) mmu: done, all ok", mmu_report.format(0, r"[1-9]\d*"),
                        r"^domain 0: shut down \(poweroff\)"],
                  must_not=clean + [r"FAIL", r"console output dropped"]),
        BootSuite("attack/guest-mmu-escapes-domu", cpus=2, memory="512M",
                  config=os.path.join(ROOT, "tests", "configs", "mmu-domu.cfg"), timeout=180,
                  must=[r"^\(d0\) mmu: " + p for p in mmu_work] + [r"^\(d1\) mmu: .*" + p for p in mmu_attack] +
                       [r"^\(d1\) mmu: L1 entry -> a frame past RAM: -1 EPERM ok",
                        r"^\(d0\) mmu: done, all ok", r"^\(d1\) mmu: done, all ok",
                        mmu_report.format(0, r"\d+"), mmu_report.format(1, r"[1-9]\d*"),
                        r"^domain 0: shut down \(poweroff\)", r"^domain 1: shut down \(poweroff\)"],
                  must_not=clean + [r"FAIL", r"console output dropped"]),
        BootSuite("boot/guest-foreign-mappings", cpus=2, memory="256M",
                  config=os.path.join(ROOT, "tests", "configs", "foreign.cfg"), timeout=180,
                  must=[r"^\(d0\) mmu: foreign: \d{4,} frames of domain 1 mapped read-only, \d+ others refused",
                        r"^\(d0\) mmu: foreign: domain 1's mailbox found by its content: ok",
                        r"^\(d0\) mmu: foreign: mailbox mapped writable: 0 ok",
                        r"^\(d1\) mmu: mmu_update, foreigndom 0 \(unprivileged\): -1 EPERM ok",
                        r"^\(d1\) mmu: update_va_mapping_otherdomain \(unprivileged\): -1 EPERM ok",
                        r"^\(d1\) mmu: foreign: domain 0 wrote into our page: ok",
                        r"^\(d0\) mmu: foreign: domain 1 acknowledged: ok",
                        r"^\(d0\) mmu: foreign: a domain that does not exist: -3 ESRCH ok",
                        r"^\(d0\) mmu: foreign: its own frame named as domain 1's: -1 EPERM ok",
                        r"^\(d0\) mmu: foreign: mmuext_op on domain 1's frame: -95 EOPNOTSUPP ok",
                        r"^domain 1: \d+ KiB returned, 4 KiB when another domain unmaps them",
                        r"^\(d0\) mmu: foreign: domain 1 ended, its page left the M2P: ok",
                        r"^\(d0\) mmu: foreign: the page outlived its domain: ok",
                        r"^\(d0\) mmu: foreign: mapping dropped \(the orphan freed\): 0 ok",
                        r"^\(d0\) mmu: foreign: domain 1, ended: -3 ESRCH ok",
                        r"^\(d0\) mmu: done, all ok", r"^\(d1\) mmu: done, all ok",
                        r"^domain 0: shut down \(poweroff\)", r"^domain 1: shut down \(poweroff\)"],
                  must_not=clean + [r"FAIL", r"console output dropped"]),
        BootSuite("boot/guest-events-timer", cpus=1, memory="256M", cmdline="dom0_mem=16M",
                  modules=[os.path.join(OUT, "guests", "events.elf")], timeout=120,
                  must=[r"^\(d0\) events: bind_virq\(VIRQ_TIMER\): 0 ok",
                        r"^\(d0\) events:   \.\.\. virq, VIRQ_TIMER: ok",
                        r"^\(d0\) events: wall clock at boot \d+ s since 1970, version 2",
                        r"^\(d0\) events:   \.\.\. even version, after November 2023: ok",
                        r"^\(d0\) events: timer woke the blocked domain after \d+ us, [123] blocks",
                        r"^\(d0\) events:   \.\.\. not before its time, not a second late: ok",
                        r"^\(d0\) events:   \.\.\. it blocked \(at most 3 SCHEDOP_block\): ok",
                        r"^\(d0\) events:   \.\.\. through the callback, upcalls masked in it: ok",
                        r"^\(d0\) events:   \.\.\. delivered on the way back: ok",
                        r"^\(d0\) events:   \.\.\. no timer event after the cancel: ok",
                        r"^\(d0\) events: VCPUOP_set_singleshot_timer, past, future flag: -62 ETIME ok",
                        r"^\(d0\) events: VCPUOP_set_singleshot_timer\(0\): past, fires at once: 0 ok",
                        r"^\(d0\) events: VCPUOP_set_periodic_timer\(100 us\): -22 EINVAL ok",
                        r"^\(d0\) events: 3 periodic ticks in \d+ us",
                        r"^\(d0\) events:   \.\.\. not before 15 ms: ok",
                        r"^\(d0\) events:   \.\.\. no tick after the stop: ok",
                        r"^\(d0\) events:   \.\.\. held back, the upcall pending: ok",
                        r"^\(d0\) events:   \.\.\. delivered on its way back: ok",
                        r"^\(d0\) events:   \.\.\. pending, no upcall: ok",
                        r"^\(d0\) events: SCHEDOP_poll, nothing pending, 5 ms timeout: 0 ok",
                        r"^\(d0\) events:   \.\.\. it waited for the timeout: ok",
                        r"^\(d0\) events: the masked timer port ended the poll after \d+ us",
                        r"^\(d0\) events:   \.\.\. pending, and long before the timeout: ok",
                        r"^\(d0\) events: SCHEDOP_poll, 129 ports: -22 EINVAL ok",
                        r"^\(d0\) events: SCHEDOP_poll, port 5000: -22 EINVAL ok",
                        r"^\(d0\) events: unmask: the upcall comes: 0 ok",
                        r"^\(d0\) events: send on it: 0 ok",
                        r"^\(d0\) events: bind_virq\(VIRQ_TIMER\) again: -17 EEXIST ok",
                        r"^\(d0\) events: send on the VIRQ port: -22 EINVAL ok",
                        r"^\(d0\) events: bind_interdomain to domain 7: -3 ESRCH ok",
                        r"^\(d0\) events: EVTCHNOP_init_control \(FIFO\): -38 ENOSYS ok",
                        r"^\(d0\) events: event_channel_op, hypervisor pointer: -14 EFAULT ok",
                        r"^\(d0\) events:   \.\.\. closed twice: -22 EINVAL ok",
                        r"^\(d0\) events: done, all ok", r"^domain 0: shut down \(poweroff\)"],
                  must_not=clean + [r"FAIL"]),
        BootSuite("attack/guest-event-without-callback", expect_status=1, cpus=1, memory="256M",
                  cmdline="dom0_mem=16M",
                  modules=[f"{os.path.join(OUT, 'guests', 'events.elf')} attack=no-callback"],
                  must=[r"^\(d0\) events: sending with upcalls on and no callback",
                        r"^domain 0: an event upcall is due, and it registered no event callback",
                        r"^domain 0: shut down \(crash\)"],
                  must_not=clean + [r"still running"]),
        BootSuite("boot/guest-events-ping-pong", cpus=2, memory="256M",
                  config=os.path.join(ROOT, "tests", "configs", "events.cfg"), timeout=180,
                  must=[r"^\(d0\) events: alloc_unbound for domain 1: 0 ok",
                        r"^\(d1\) events: bind_interdomain to domain 0 port 1: 0 ok",
                        r"^\(d1\) events:   \.\.\. our new port starts pending \(as Xen\): ok",
                        r"^\(d0\) events: domain 1 bound our port",
                        r"^\(d0\) events: 1000 round trips to domain 1, \d+ cycles each on average",
                        r"^\(d1\) events: answered 1000 times",
                        r"^\(d0\) events: done, all ok", r"^\(d1\) events: done, all ok",
                        r"^\(d2\) console read \(unprivileged\): -1 \(EPERM\) ok",
                        r"^domain 0: shut down \(poweroff\)", r"^domain 1: shut down \(poweroff\)",
                        r"^domain 2: shut down \(poweroff\)"],
                  must_not=clean + [r"FAIL"]),
        BootSuite("boot/guest-smp", cpus=3, memory="256M",
                  config=os.path.join(ROOT, "tests", "configs", "smp.cfg"), timeout=180,
                  must=[r"^domain 0 \(smp\): .*, 2 vCPUs, privileged",
                        r"^\(d0\) smp: is_up\(0\): 1 ok",
                        r"^\(d0\) smp: is_up\(1\), not started: 0 ok",
                        r"^\(d0\) smp: is_up\(2\), no such vCPU: -2 ENOENT ok",
                        r"^\(d0\) smp: up\(1\) before initialise: -22 EINVAL ok",
                        r"^\(d0\) smp:   \.\.\. offline: ok",
                        r"^\(d0\) smp: initialise\(1\), RIP in the hypervisor: -22 EINVAL ok",
                        r"^\(d0\) smp: initialise\(1\) with an LDT: -22 EINVAL ok",
                        r"^\(d0\) smp: initialise\(1\), context at a hypervisor address: -14 EFAULT ok",
                        r"^\(d0\) smp: initialise\(1\), CR3 a writable data page: -\d+ refused ok",
                        r"^\(d0\) smp: initialise\(1\): 0 ok",
                        r"^\(d0\) smp: initialise\(1\) again: -17 EEXIST ok",
                        r"^\(d0\) smp: bind_ipi\(vcpu 2\): -2 ENOENT ok",
                        r"^\(d0\) smp: set_singleshot_timer of vcpu 1 from vcpu 0: -22 EINVAL ok",
                        r"^\(d0\) smp: vcpu 1 started, with RDI from its context: ok",
                        r"^\(d0\) smp: vcpu 1: up, its own vcpu_info at 0x",
                        r"^\(d0\) smp:   \.\.\. running: ok",
                        r"^\(d0\) smp: 100 IPIs to vcpu 1, \d+ cycles each on average",
                        r"^\(d0\) smp:   \.\.\. each seen by vcpu 1's callback, none by vcpu 0's: ok",
                        r"^\(d0\) smp: vcpu 1's LSL: 0x1234 seen, then 0x5678",
                        r"^\(d0\) smp:   \.\.\. the change reached vcpu 1's CPU: ok",
                        r"^\(d0\) smp: vcpu 1's own VIRQ_TIMER woke it: ok",
                        r"^\(d0\) smp: 400000 atomic adds from two vCPUs: ok",
                        r"^\(d0\) smp: remap to B, UVMF_INVLPG\|UVMF_ALL: 0 ok",
                        r"^\(d0\) smp: remap to A, UVMF_INVLPG\|UVMF_MULTI \{vcpu 1\}: 0 ok",
                        r"^\(d0\) smp: vcpu 1 read 0xa before the remap, 0xb after",
                        r"^\(d0\) smp: vcpu 1 read 0xb before the remap, 0xa after",
                        r"^\(d0\) smp:   \.\.\. it stopped running: ok",
                        r"^\(d0\) smp:   \.\.\. it runs again: ok",
                        r"^\(d0\) smp: vcpu 1 took itself down: ok",
                        r"^\(d0\) smp: vcpu 1: back from VCPUOP_down on itself: 0",
                        r"^\(d0\) smp:   \.\.\. and running: ok",
                        r"^\(d0\) smp: vcpu 1 runs page-table batches: ok",
                        r"^\(d0\) smp: vcpu 0 shuts the domain down with vcpu 1 running",
                        r"^\(d0\) exit code 0",
                        r"^domain 0: shut down \(poweroff\)", r"^domain 1: shut down \(poweroff\)",
                        r"^vireo: every domain has ended; stopping"],
                  must_not=clean + [r"FAIL"]),
        BootSuite("boot/guest-smp-dom0-last-vcpu-down", cpus=2, memory="256M",
                  cmdline="dom0_mem=16M dom0_max_vcpus=2",
                  modules=[f"{os.path.join(OUT, 'guests', 'smp.elf')} end=down"], timeout=180,
                  must=[r"^domain 0 \(dom0\): .*, 2 vCPUs, privileged",
                        r"^\(d0\) smp: vcpu 1 started, with RDI from its context: ok",
                        r"^\(d0\) smp:   \.\.\. back from its VCPUOP_down: ok",
                        r"^\(d0\) smp: down\(1\), the end: 0 ok",
                        r"^\(d0\) smp: vcpu 0 takes itself down, the last one up$",
                        r"^domain 0: shut down \(poweroff\)",
                        r"^vireo: every domain has ended; stopping"],
                  must_not=clean + [r"FAIL", r"exit code"]),
        BootSuite("attack/guest-smp-secondary-crash", expect_status=1, cpus=3, memory="256M",
                  config=os.path.join(ROOT, "tests", "configs", "smp-crash.cfg"), timeout=180,
                  must=[r"^\(d0\) smp: vcpu 1 started, with RDI from its context: ok",
                        r"^\(d0\) smp: vcpu 1: an exception with no handler follows",
                        r"^domain 0: crashed: exception 6 at rip 0x[0-9a-f]+, .* on vCPU 1",
                        r"^domain 1: shut down \(poweroff\)",
                        r"^vireo: every domain has ended \(one crashed\); stopping"],
                  must_not=clean + [r"still running"]),
        BootSuite("boot/guest-traps", cpus=1, memory="256M", cmdline="dom0_mem=16M",
                  modules=[os.path.join(OUT, "guests", "traps.elf")],
                  must=[r"ud2 -> #UD +vector 6 error 0x0 ok", r"int3 -> #BP +vector 3 .* ok",
                        r"int \$0x80 \(DPL 3 entry\) +vector 128 .* ok", r"mov to cr3 -> #GP +vector 13 .* ok",
                        r"hypervisor read -> #PF +vector 14 error 0x5 ok", r"divide by zero -> #DE +vector 0 .* ok",
                        r"handler in hypervisor range +-1 ok", r"old table still in force .* ok",
                        r"non-canonical handler +-22 ok", r"table at a bad pointer +-14 ok",
                        r"x87 with TS set -> #NM +vector 7 .* ok", r"x87 after fpu_taskswitch\(0\) .* ok",
                        r"11 exceptions handled, 0 failure", r"write to watched -> #DB +vector 1 .* ok",
                        r"xen_version into a watched buffer +0 ok", r"wrmsr/rdmsr FS_BASE +4096 ok",
                        r"set_gdt\(1 frame, 3 entries\) +0 ok", r"read through %ds = 0x13 +1 ok",
                        r"load of 0x13: no fault .* ok", r"gdt page cannot be writable +-16 ok",
                        r"update_descriptor DPL 0 code \(made DPL 3\) +0 ok", r"lar of 0x0b: DPL 3 code +1 ok", r"update_descriptor DPL 3 data +0 ok",
                        r"read through %ds = 0x0b +1 ok", r"set_gdt with a call gate +-22 ok",
                        r"GDT in force after the refusal +1 ok", r"set_gdt\(0 entries\) +0 ok",
                        r"load of 0x13 after set_gdt\(0\) -> #GP +vector 13 error 0x10 ok",
                        r"gdt page writable again +0 ok",
                        r"set_ldt on a writable page +-16 ok", r"ldt page made read-only +0 ok",
                        r"set_ldt\(page, 2 entries\) +0 ok", r"lar of 0x0f: DPL 3 data +1 ok",
                        r"read through %ds = 0x0f +1 ok", r"load of 0x0f: no fault .* ok",
                        r"lar of 0x17 \(past the limit\) +-1 ok", r"ldt page cannot be writable +-16 ok",
                        r"ldt update_descriptor call gate +-22 ok", r"ldt update_descriptor to 0 +0 ok",
                        r"lar of 0x0f after it +-1 ok", r"evil ldt page made read-only +0 ok",
                        r"set_ldt with a call gate +-22 ok", r"ldt update_descriptor DPL 3 data +0 ok",
                        r"LDT in force after the refusal +1 ok", r"set_ldt\(0 entries\) +0 ok",
                        r"lar of 0x0f after set_ldt\(0\) +-1 ok", r"ldt page writable again +0 ok",
                        r"^domain 0: shut down \(poweroff\)"],
                  must_not=clean + [r"FAIL"]),
        BootSuite("boot/guest-user-mode", cpus=1, memory="256M", cmdline="dom0_mem=16M",
                  modules=[os.path.join(OUT, "guests", "user.elf")],
                  must=[r"NEW_USER_BASEPTR +0 ok", r"callback_op\(register syscall\) +0 ok",
                        r"M2P at 0xffff800000000000 maps our frames back .* ok",
                        r"syscall 1: user GS base reads its magic +0x75736572 ok",
                        r"syscall 1: RCX is the user's return RIP .* ok",
                        r"syscall 2: the result came back in RAX +0x64 ok",
                        r"int \$0x80 from user mode \(DPL 3\) .* ok", r"int \$0x81 \(DPL 0\) -> #GP .* ok",
                        r"read of kernel memory -> #PF \(user, not present\) 0x4 ok",
                        r"ud2 -> #UD .* ok", r"syscall 3: user stack write read back +0x5a5a ok",
                        r"syscall 60: exit, arrivals so far +0x8 ok", r"all checks passed",
                        r"^domain 0: shut down \(poweroff\)"],
                  must_not=clean + [r"FAIL"]),
        BootSuite("attack/guest-iret-to-user-without-tables", expect_status=1, cpus=1, memory="256M",
                  modules=[f"{os.path.join(OUT, 'guests', 'user.elf')} attack=no-user-tables"],
                  must=[r"^domain 0: iret to user mode with no user page tables",
                        r"^domain 0: crashed: exception 13"],
                  must_not=[r"PANIC"]),
        BootSuite("attack/guest-mmu-count-overflow", cpus=1, memory="256M",
                  cmdline="dom0_mem=16M vireo.mm_count_limit=64", modules=[f"{mmu} overflow=64"],
                  must=[r"^mm: frame reference counts limited to 64", r"one more: -75 EOVERFLOW ok",
                        r"map it writable N \+ 4 times in one batch: -75 EOVERFLOW ok",
                        r"stopped at N \(\*pdone\): ok", r"the frame can be a page table \(no count left\): 0 ok",
                        r"^\(d0\) mmu: overflow: \d+ cases, 0 failure", r"^domain 0: shut down \(poweroff\)"],
                  must_not=clean + [r"FAIL"]),
        BootSuite("attack/guest-syscall-with-tf", expect_status=1, cpus=1, memory="256M",
                  modules=[f"{os.path.join(OUT, 'guests', 'traps.elf')} attack=syscall-tf"],
                  must=[r"syscall with TF set and RSP in the hypervisor", r"^domain 0: crashed: exception 1 "],
                  must_not=[r"PANIC", r"hypervisor exception"]),
        BootSuite("attack/guest-rip-past-segment-limit", expect_status=1, cpus=1, memory="256M",
                  cmdline="dom0_mem=16M", modules=[f"{os.path.join(OUT, 'guests', 'traps.elf')} attack=ldt-limit"],
                  must=[r"traps: lret to a 32-bit LDT code segment, WRMSR at its limit",
                        r"^domain 0: crashed: exception 13 at rip 0x2000,"],
                  must_not=clean),
        BootSuite("attack/guest-iret-forged-cs", expect_status=1, cpus=1, memory="256M",
                  modules=[f"{os.path.join(OUT, 'guests', 'traps.elf')} attack=bad-iret"],
                  must=[r"iret with a forged CS", r"^domain 0: crashed: exception 13"],
                  must_not=[r"PANIC"]),
        BootSuite("boot/config-five-domains-two-cpus", cpus=2, memory="512M",
                  config=os.path.join(ROOT, "configs", "multi.cfg"), timeout=240,
                  must=[r"^domain 0 \(hello\)", r"^domain 1 \(traps\)", r"^domain 2 \(bench\)",
                        r'cmd_line +"hello from the multi configuration"',
                        r"^\(d1\) traps: 11 exceptions handled, 0 failure", r'^\(d2\) \{"vireo_bench"',
                        r"^domain 0: shut down \(poweroff\)", r"^domain 1: shut down \(poweroff\)",
                        r"^domain 2: shut down \(poweroff\)", r"^domain 3 \(user\)", r"^\(d3\) user: all checks passed",
                        r"^domain 3: shut down \(poweroff\)", r"^domain 4 \(mmu-attack\)",
                        r"^\(d4\) mmu: attacks: \d+ cases, 0 failure", r"^domain 4: shut down \(poweroff\)",
                        r"^domain 4: 32772 KiB returned",
                        r"every domain has ended; stopping"],
                  must_not=clean + [r"FAIL"]),
        BootSuite("boot/config-one-bad-kernel", expect_status=4, cpus=2, memory="512M",
                  config=os.path.join(ROOT, "tests", "configs", "onebad.cfg"),
                  must=[r"^elf: not an ELF image", r"^domain 0 \(notelf\): kernel image refused", r"^\(d1\) hello: done",
                        r"^domain 1: shut down \(poweroff\)"],
                  must_not=clean),
        BootSuite("boot/config-module-missing", expect_status=4, cpus=1, memory="256M",
                  modules=[os.path.join(ROOT, "tests", "configs", "missing-ramdisk.cfg") + " vireo-config",
                           f"{hello} vireo-kernel", f"{hello} vireo-kernel"],
                  must=[r"^domain 0 \(lost-ramdisk\): no boot module carries its ramdisk "
                        r"tests/data/initrd.txt; not started",
                        r"^domain 1 \(second\): Vireo-test", r"^\(d1\) hello: done",
                        r"^domain 1: shut down \(poweroff\)"],
                  must_not=clean + [r"^domain 1 \(second\): no boot module"]),
        BootSuite("boot/config-kernel-missing", expect_status=4, cpus=1, memory="256M",
                  modules=[os.path.join(ROOT, "tests", "configs", "missing-kernel.cfg") + " vireo-config",
                           os.path.join(ROOT, "tests", "data", "initrd.txt") + " vireo-ramdisk",
                           f"{hello} vireo-kernel",
                           os.path.join(ROOT, "tests", "data", "initrd-second.txt") + " vireo-ramdisk"],
                  must=[r"^domain 0 \(lost-kernel\): a module tagged vireo-ramdisk is where its kernel "
                        r"out/guests/hello.elf is due \(its kernel line is missing\?\); not started",
                        r"^domain 1 \(second\): Vireo-test, 16 MiB, .*initrd \d+ bytes",
                        r"^\(d1\) hello: done", r"^domain 1: shut down \(poweroff\)"],
                  must_not=clean + [r"^domain 0 \(lost-kernel\): Vireo-test"]),
        BootSuite("boot/config-without-domains", cpus=1, memory="256M",
                  config=os.path.join(ROOT, "tests", "configs", "nodomain.cfg"),
                  must=[r"vireo: no domain to run; stopping"], must_not=clean),
        BootSuite("boot/config-malformed", expect_status=4, cpus=1, memory="256M",
                  config=os.path.join(ROOT, "tests", "configs", "malformed.cfg"),
                  must=[r"^config: vireo\.cfg:7: 'memory': expected a number of MiB",
                        r"configuration is refused; no domain started"],
                  must_not=clean + [r"hello: done"]),
        RebasedGuestSuite("attack/kernel-in-hypervisor-image-range", 0xFFFF82D080000000, expect_status=4, cpus=1,
                          memory="256M", must=[r"^domain 0 \(dom0\): cannot build \(-22\)",
                                               r"no domain to run; stopping"],
                          must_not=clean + [r"hello: done"]),
        RebasedGuestSuite("attack/kernel-in-direct-map", 0xFFFF830000000000, expect_status=4, cpus=1, memory="256M",
                          must=[r"^domain 0 \(dom0\): cannot build \(-22\)"],
                          must_not=clean + [r"hello: done"]),
        RebasedGuestSuite("attack/kernel-across-lower-half-end", 0x00007FFFFFFF0000, expect_status=4, cpus=1,
                          memory="256M", must=[r"cannot build \(-22\)|kernel image refused"],
                          must_not=clean + [r"hello: done"]),
        BootSuite("boot/guest-bad-image", expect_status=4, cpus=1, memory="256M", modules=[f"{demo} not-an-elf"],
                  must=[r"^elf: not an ELF image \(bad magic\)", r"^domain 0 \(dom0\): kernel image refused"],
                  must_not=[r"PANIC"]),
        BootSuite("boot/iso-seabios", iso=demo, cpus=2, memory="512M", timeout=180,
                  must=banner + [r"loader +multiboot2", r"CPUs +2 up", r"args: vireo-config",
                                 r"args: vireo-ramdisk$"] + initrd_lines(initrd, 0),
                  must_not=clean),
        BootSuite("boot/iso-ovmf", iso=demo, uefi=True, cpus=2, memory="512M", timeout=240,
                  must=banner + [r"loader +multiboot2", r"CPUs +2 up"] + initrd_lines(initrd, 0),
                  must_not=clean),
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
