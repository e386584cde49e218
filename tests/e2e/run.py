#!/usr/bin/env python3
"""Run the hichat end-to-end tests.

    python3 tests/e2e/run.py [-v] [NAME_OR_SUBSTRING ...]

Discovers `test_*` functions in tests/e2e/test_*.py (in file order), runs each
one with a per-test alarm (E2E_TEST_TIMEOUT, default 60 s), tears down every
process and socket it created, and prints `ok NAME (0.3s)` or
`FAIL NAME: reason`. The last line is `e2e: N passed, M failed`; the exit status
is 1 if anything failed. The binary is $HICHAT (default build/hichat in the repo).
"""

import importlib.util
import inspect
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)

import harness  # noqa: E402

TEST_TIMEOUT = int(os.environ.get("E2E_TEST_TIMEOUT", "60"))


def discover():
    tests = []
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        path = os.path.join(HERE, fname)
        modname = "e2e_" + fname[:-3]
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        funcs = [(n, f) for n, f in vars(mod).items()
                 if n.startswith("test_") and inspect.isfunction(f) and f.__module__ == modname]
        funcs.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
        tests.extend(funcs)
    return tests


def _alarm(signum, frame):
    raise harness.TestTimeout("test took longer than %d s (per-test alarm)" % TEST_TIMEOUT)


def main(argv):
    verbose = False
    if argv and argv[0] in ("-v", "--verbose"):
        verbose, argv = True, argv[1:]
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    tests = discover()
    if argv:
        names = set(argv)
        exact = [t for t in tests if t[0] in names]
        tests = [t for t in tests if t[0] in names or any(a in t[0] for a in argv)] if len(exact) < len(names) else exact
    if not os.path.exists(harness.HICHAT):
        print("note: %s does not exist (set HICHAT or run make)" % harness.HICHAT, flush=True)
    harness.raise_nofile_limit(4096)
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    passed = failed = skipped = 0
    for name, func in tests:
        t0 = time.monotonic()
        err = None
        skip = None
        signal.alarm(TEST_TIMEOUT)
        try:
            func()
        except harness.SkipTest as e:
            skip = str(e)
        except (Exception, harness.TestTimeout) as e:
            err = e
            tb = traceback.format_exc()
        finally:
            signal.alarm(0)
            try:
                harness.cleanup_all()
            except BaseException:
                pass
        found = harness.take_findings()
        if found and err is None and skip is None:
            err = AssertionError("\n".join(found))
            tb = ""
        dt = time.monotonic() - t0
        if skip is not None:
            skipped += 1
            print("skip %s: %s" % (name, skip), flush=True)
        elif err is None:
            passed += 1
            print("ok %s (%.1fs)" % (name, dt), flush=True)
        else:
            failed += 1
            msg = str(err) or type(err).__name__
            if not isinstance(err, AssertionError) and not isinstance(err, harness.TestTimeout):
                msg = "%s: %s" % (type(err).__name__, msg)
            first, *rest = msg.splitlines() or [""]
            print("FAIL %s: %s" % (name, first), flush=True)
            for line in rest:
                print("    " + line)
            # where in the test it failed
            frames = [l for l in tb.splitlines() if l.strip().startswith("File ") and "/test_" in l]
            if frames:
                print("    at " + frames[-1].strip())
            if verbose:
                print("    " + tb.replace("\n", "\n    "))
            sys.stdout.flush()
    harness.remove_tmpdir()
    print("e2e: %d passed, %d failed%s" % (passed, failed,
                                           ", %d skipped" % skipped if skipped else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
