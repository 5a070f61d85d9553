"""./vireo bench: hosted microbenchmarks, the in-image ones, and the comparison with Xen."""
import gzip
import json
import os
import re
import shutil
import subprocess

from vireolib.common import OUT, ROOT, fail, say, setup_and_build
from vireolib.qemu import qemu_argv, qemu_version, run_qemu



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
    try:
        with open(out_json) as f:
            data = json.load(f)
    except (OSError, ValueError):
        # Google Benchmark writes nothing when --filter matches none of its benchmarks.
        say(f"vireo bench: no hosted benchmark matches --filter {args.filter!r}" if args.filter
            else "vireo bench: the hosted benchmarks wrote no results")
        data = {"benchmarks": []}
    print_ring_table(data)
    print_mmu_table(data)
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
    tcg = columns.get("tcg", {})
    b1 = tcg.get("guest/mmu_update_b1", {}).get("cycles_per_op")
    b512 = tcg.get("guest/mmu_update_b512", {}).get("cycles_per_op")
    if b1 and b512:
        say(f"\nPV MMU batching in the image: mmu_update per entry at batch 512 = {b512 / b1:.2f}x "
            f"batch 1 (goal <= 0.2x: {'met' if b512 / b1 <= 0.2 else 'MISSED'})")
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
            v = columns["tcg"].get("guest/mmu_update_b512", {}).get("cycles_per_op")
            x = xen.get("guest/mmu_update_b512", {}).get("cycles_per_op")
            if v and x:
                say(f"mmu_update per entry at batch 512, Vireo/Xen = {v / x:.2f}x "
                    f"(goal <= 0.7x: {'met' if v / x <= 0.7 else 'MISSED'})")


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


def print_mmu_table(data):
    """The PV MMU's batching curve on hosted: ns per page-table entry by batch size."""
    med = medians(data)

    def ns(name):
        b = med.get(name)
        return b["real_time"] if b and b.get("time_unit") == "ns" else None

    batches = sorted({int(k.split("/")[2]) for k in med if k.startswith("mmu/update/")})
    if not batches:
        return
    say("\nPV MMU on hosted (hypercall dispatch and rules, no ring transition), ns per entry:")
    b1 = ns("mmu/update/1/real_time")
    for bsz in batches:
        v = ns(f"mmu/update/{bsz}/real_time")
        rel = f"{v / b1:.2f}x batch 1" if v and b1 else ""
        goal = ""
        if bsz == 512 and v and b1:
            goal = "  goal <= 0.2x: " + ("met" if v / b1 <= 0.2 else "MISSED (hosted has no SYSCALL cost in batch 1)")
        say(f"  mmu_update batch {bsz:>3}: {v:8.2f}  {rel}{goal}" if v else f"  mmu_update batch {bsz}: -")
    for name, label in (("mmu/update_va_mapping/0/real_time", "update_va_mapping, one per call"),
                        ("mmu/multicall_uvm/64/real_time", "multicall of 64 update_va_mapping"),
                        ("mmu/pin_unpin_l4/0/real_time", "pin + unpin, L4..L1 over 2048 frames")):
        v = ns(name)
        if v:
            say(f"  {label}: {v:.2f}")
