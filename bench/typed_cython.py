"""The game's hot path compiled with typed Cython, against plain CPython: what a compiled
build of the server would buy (docs/performance.md, "Typed Cython, measured").

    .venv/bin/pip install -e '.[bench]'                  # Cython, and a C compiler
    .venv/bin/python -m bench.typed_cython               # instructions (valgrind)
    .venv/bin/python -m bench.typed_cython --cpu 5       # CPU time: 5 interleaved pairs
    .venv/bin/python -m bench.typed_cython --keep /tmp/typed   # keep the compiled copy

It copies server/, protocol/ and bench/ to a scratch directory, puts the declarations of
bench/typed_pxd/ beside their modules there, compiles MODULES in place and checks that
they import compiled, then runs `python -m bench.hotpath` in this tree and in the copy.
Cython's pure-Python mode: each .py is compiled as it is, typed by the .pxd beside it
(classes as `cdef` classes, attributes and locals typed, methods `cpdef`); the modules
without one compile untyped (`Racing` is a mixin of a Python class, `TyperaceServer` is
assigned to dynamically).

The server is never built like this: this only measures. A kept copy runs the whole
server too (`cd /tmp/typed/code && python -m bench run --targets server ...`). When a
class's attributes change, its .pxd here must follow, or the build or the typed run fails
(the error names the attribute).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile

from bench.__main__ import ROOT, code_copy

DECLARATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "typed_pxd")
MODULES = ("protocol/typing_model.py", "protocol/scoring.py", "server/core/keylog.py",
           "server/core/ratelimit.py", "server/core/race.py", "server/core/racing.py",
           "server/net/conn.py", "server/net/session.py", "server/net/inputs.py",
           "server/net/delivery.py", "server/net/metrics.py", "server/net/ticker.py",
           "server/net/app.py")

SETUP = """
import sys
from setuptools import Extension, setup
from Cython.Build import cythonize
modules = sys.argv[1].split(",")
extensions = [Extension(m[:-3].replace("/", "."), [m], extra_compile_args=["-O2"])
              for m in modules]
setup(name="typed", script_args=["build_ext", "--inplace", "-q", "--build-temp", "build"],
      ext_modules=cythonize(extensions, language_level=3, quiet=True,
                            compiler_directives={"annotation_typing": False}))
"""


def compiled_copy(workdir: str) -> str:
    """A copy of the code with MODULES compiled in place; its directory."""
    copy = code_copy(workdir)
    for folder, _, files in os.walk(DECLARATIONS):
        for name in files:
            relative = os.path.relpath(os.path.join(folder, name), DECLARATIONS)
            shutil.copy(os.path.join(folder, name), os.path.join(copy, relative))
    run([sys.executable, "-c", SETUP, ",".join(MODULES)], copy)
    names = [m[:-3].replace("/", ".") for m in MODULES]
    check = ("import importlib, sys\n"
             f"plain = [n for n in {names!r} if not importlib.import_module(n).__file__"
             ".endswith('.so')]\n"
             "sys.exit(f'not compiled: {plain}' if plain else 0)")
    run([sys.executable, "-c", check], copy)
    return copy


def run(cmd: list[str], cwd: str) -> str:
    """Its output; when it fails, the end of what it said, then CalledProcessError."""
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        print(done.stdout[-2000:], done.stderr[-3000:], sep="\n")
        done.check_returncode()
    return done.stdout


def hotpath(tree: str, *args: str) -> str:
    return run([sys.executable, "-m", "bench.hotpath", *args], tree)


def instructions(tree: str) -> int:
    out = hotpath(tree, "--instructions")
    return int(re.search(r"([\d,]+) instructions", out).group(1).replace(",", ""))


def cpu_us(tree: str) -> float:
    out = hotpath(tree, "--racers", "2000", "--seconds", "20", "--repeat", "1")
    return float(re.search(r"median: ([\d.]+) µs", out).group(1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu", type=int, metavar="PAIRS", default=0,
                        help="measure CPU time in PAIRS interleaved runs instead of instructions")
    parser.add_argument("--keep", metavar="DIR", help="build the copy in DIR and keep it")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("Cython") is None:
        print("bench.typed_cython: needs Cython: pip install -e '.[bench]'")
        return 2
    if not args.cpu and shutil.which("valgrind") is None:
        print("bench.typed_cython: counting instructions needs valgrind "
              "(apt-get install valgrind), or use --cpu")
        return 2
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    workdir = args.keep or tempfile.mkdtemp(prefix="typed-cython-")
    try:
        typed = compiled_copy(workdir)
        print(f"compiled {len(MODULES)} modules in {typed}")
        if args.cpu:
            pairs = [(cpu_us(ROOT), cpu_us(typed)) for _ in range(args.cpu)]
            for plain, compiled in pairs:
                print(f"plain {plain} µs, typed {compiled} µs per racer·s: "
                      f"{compiled / plain:.2f}")
            ratios = sorted(c / p for p, c in pairs)
            print(f"median typed ÷ plain: {ratios[len(ratios) // 2]:.2f}")
        else:
            plain, compiled = instructions(ROOT), instructions(typed)
            print(f"instructions per racer·s of the game's Python: plain {plain:,}, "
                  f"typed {compiled:,} ({(compiled - plain) / plain:+.1%})")
    except subprocess.CalledProcessError:
        print("bench.typed_cython: the build or a run of the typed copy failed (its output "
              "above); a .pxd in bench/typed_pxd/ may no longer match its module")
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
