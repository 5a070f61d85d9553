"""QEMU, configurations and boot media for ./vireo: run, image, test and bench use them."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

from vireolib.common import OUT, ROOT, fail



# QEMU's isa-debug-exit exits with (value << 1) | 1; Vireo writes its status there.
QEMU_STATUS = {1: 0, 3: 1, 5: 2, 9: 4}
STATUS_TEXT = {0: "every domain ended normally", 1: "a domain crashed", 2: "hypervisor panic",
               4: "a domain could not be started; the others ended normally"}
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
    [domain], and each domain's kernel and ramdisk files (checked to exist) as the boot
    modules in the order the hypervisor takes them: for each domain its kernel, then its
    ramdisk if it has one (cfg["modules"], (path, "kernel" or "ramdisk") pairs). The
    hypervisor reads the same file as a boot module and checks everything else
    (core/config.c)."""
    cfg = {"hypervisor_cmdline": "", "cpus": 2, "machine_memory": "1G", "modules": []}
    try:
        raw_lines = open(path, "rb").read().splitlines()
    except OSError as e:
        fail(f"{path}: cannot read: {e.strerror}")
    lines = []
    for n, raw in enumerate(raw_lines, 1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            fail(f"{path}:{n}: not UTF-8 text (byte 0x{raw[e.start]:02x} at column {e.start + 1})")
    domains = []                  # per [domain]: {"kernel": path, "ramdisk": path}
    for n, raw in enumerate(lines, 1):
        line = strip_comment(raw).strip()
        if not line:
            continue
        if line.startswith("["):
            if line.replace(" ", "") != "[domain]":
                fail(f"{path}:{n}: unknown section {line!r} (only [domain])")
            domains.append({})
            continue
        if "=" not in line:
            fail(f"{path}:{n}: expected 'key = value', got {line!r}")
        key, val = (x.strip() for x in line.split("=", 1))
        quoted = len(val) >= 2 and val[0] == val[-1] == '"'
        if quoted:
            val = val[1:-1]
        if domains:
            if key in ("kernel", "ramdisk"):
                domains[-1][key] = module_file(path, n, key, val)
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
    for d in domains:
        cfg["modules"] += [(d[k], k) for k in ("kernel", "ramdisk") if k in d]
    return cfg


def module_file(path, n, key, val):
    """The absolute path of a domain's kernel or ramdisk file (relative ones are from the
    repository root), which must exist and be one QEMU's -initrd can take."""
    fpath = val if os.path.isabs(val) else os.path.join(ROOT, val)
    if not os.path.isfile(fpath):
        hint = "build it with ./vireo test or ninja, or fix the path" if key == "kernel" else "fix the path"
        fail(f"{path}:{n}: '{key}': no such file {val!r} ({hint})")
    if re.search(r"[ ,]", fpath):
        fail(f"{path}:{n}: '{key}': QEMU's -initrd cannot take a path with a space or comma")
    return fpath


def config_modules(cfg, config_path):
    """QEMU's -initrd modules for a configuration: the file itself, then each domain's kernel
    and ramdisk, tagged so the boot banner tells them apart."""
    return ([f"{os.path.abspath(config_path)} vireo-config"] +
            [f"{p} vireo-{kind}" for p, kind in cfg["modules"]])


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


def run_qemu(argv, timeout=None, echo=True, stop_on=None, feed=None):
    """Run QEMU; returns (Vireo status or None, output, QEMU's exit code).

    The console is read on a thread of its own, so the timeout holds even when
    the machine hangs without printing anything. With stop_on, QEMU is stopped
    once a console line matches it (for machines that halt instead of exiting).
    With feed = (pattern, text), text is typed on the serial console once a
    console line matches pattern."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", stdin=subprocess.PIPE if feed else None)
    out = []

    def pump():
        fed = False
        for line in proc.stdout:
            out.append(line)
            if echo:
                sys.stdout.write(line)
                sys.stdout.flush()
            if stop_on and re.search(stop_on, line):
                proc.kill()
            if feed and not fed and re.search(feed[0], line):
                fed = True
                try:
                    proc.stdin.write(feed[1])
                    proc.stdin.flush()
                except OSError:
                    pass

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


def make_iso(cfg, config_path, output):
    with tempfile.TemporaryDirectory() as tmp:
        boot = os.path.join(tmp, "boot")
        os.makedirs(os.path.join(boot, "grub"))
        shutil.copy(os.path.join(OUT, "image", "vireo.elf"), os.path.join(boot, "vireo.elf"))
        shutil.copy(config_path, os.path.join(boot, "vireo.cfg"))
        # Each domain's kernel, then its ramdisk: the order the hypervisor takes them in.
        module_lines = ""
        for n, (p, kind) in enumerate(cfg["modules"]):
            name = f"{kind}{n}.elf" if kind == "kernel" else f"{kind}{n}"
            shutil.copy(p, os.path.join(boot, name))
            module_lines += f"  module2 /boot/{name} {name} vireo-{kind}\n"
        with open(os.path.join(boot, "grub", "grub.cfg"), "w") as f:
            # GRUB passes a module's arguments without its file name; the first word is a
            # placeholder name, the convention Xen's GRUB entries follow.
            f.write("set timeout=0\nset default=0\n"
                    "serial --unit=0 --speed=115200\nterminal_input serial console\n"
                    "terminal_output serial console\n"
                    "menuentry 'Vireo' {\n"
                    f"  multiboot2 /boot/vireo.elf {cfg['hypervisor_cmdline']}\n"
                    "  module2 /boot/vireo.cfg vireo.cfg vireo-config\n"
                    + module_lines +
                    "  boot\n}\n")
        r = subprocess.run(["grub-mkrescue", "-o", os.path.abspath(output), tmp],
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"grub-mkrescue failed:\n{r.stderr[-3000:]}", 1)
