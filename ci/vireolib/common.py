"""Shared by the ./vireo commands: where things are, messages, set-up and build."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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
