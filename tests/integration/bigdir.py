#!/usr/bin/env python3
"""bigdir.py: the load of fuse-bigdir.sh, one process per mount.

  bigdir.py create DIR PREFIX START COUNT   create PREFIX%07d files (O_EXCL)
  bigdir.py unlink DIR PREFIX START COUNT STEP   unlink every STEP-th of them
  bigdir.py names PREFIX START COUNT [STEP]      print the names, one a line

create and unlink print one line: how many, seconds, and the mean time per
operation of the first and the last 10% with their ratio (the per-create cost
must not grow with the directory). Exit status 1 if any operation failed.
"""
import os
import sys
import time


def names(prefix, start, count, step=1):
    return ["%s%07d" % (prefix, i) for i in range(start, start + count, step)]


def run(op, d, todo):
    times, failed = [], 0
    t0 = time.monotonic()
    for n in todo:
        t = time.monotonic()
        try:
            if op == "create":
                os.close(os.open(os.path.join(d, n), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            else:
                os.unlink(os.path.join(d, n))
        except OSError as e:
            failed += 1
            if failed <= 5:
                print("# %s %s: %s" % (op, n, e), file=sys.stderr)
        times.append(time.monotonic() - t)
    total = time.monotonic() - t0
    k = max(1, len(times) // 10)
    first = sum(times[:k]) / k * 1000
    last = sum(times[-k:]) / k * 1000
    print("%s %d in %.1f s (%.0f/s), failed %d; first 10%% %.3f ms, last 10%% %.3f ms, ratio %.2f"
          % (op, len(times), total, len(times) / total if total else 0, failed, first, last,
             last / first if first else 0))
    return 1 if failed else 0


def main(argv):
    if len(argv) >= 6 and argv[1] == "create":
        return run("create", argv[2], names(argv[3], int(argv[4]), int(argv[5])))
    if len(argv) >= 7 and argv[1] == "unlink":
        return run("unlink", argv[2], names(argv[3], int(argv[4]), int(argv[5]), int(argv[6])))
    if len(argv) >= 5 and argv[1] == "names":
        step = int(argv[5]) if len(argv) > 5 else 1
        sys.stdout.write("".join(n + "\n" for n in names(argv[2], int(argv[3]), int(argv[4]), step)))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
