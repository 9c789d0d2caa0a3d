#!/usr/bin/env python3
# fsx: random file operations run side by side on a file in the mount and a
# reference file on a local file system, comparing every read (after the
# file-system exerciser of BSD and xfstests). Several descriptors of one file
# are open at once, so writes through one must show through the others
# before any close. Usage: fsx.py MOUNTFILE REFFILE OPS SEED; prints the
# failing step and exits 1 on the first difference.
import os
import random
import sys

MAXLEN = 12 << 20       # crosses three 4 MiB chunks
CHUNK = 4 << 20


def pick_off(rnd):
    """Offsets near chunk boundaries are where the bugs are."""
    if rnd.random() < 0.4:
        return max(0, rnd.randrange(1, 3) * CHUNK + rnd.randrange(-5000, 5000))
    return rnd.randrange(0, MAXLEN)


def main():
    path, ref, ops, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rnd = random.Random(seed)
    fds = []            # pairs (fd in the mount, fd of the reference)

    def reopen():
        flags = os.O_RDWR | os.O_CREAT
        fds.append((os.open(path, flags, 0o644), os.open(ref, flags, 0o644)))

    def fail(step, what):
        print(f"step {step}: {what}")
        sys.exit(1)

    reopen()
    for step in range(ops):
        op = rnd.random()
        a, b = fds[rnd.randrange(len(fds))]
        if op < 0.35:                                   # write
            off = pick_off(rnd)
            n = rnd.choice([1, 17, 4096, 65536, 300000, CHUNK + 3])
            n = min(n, MAXLEN - off) if off < MAXLEN else 1
            data = rnd.randbytes(n)
            if os.pwrite(a, data, off) != n or os.pwrite(b, data, off) != n:
                fail(step, f"short write at {off}")
        elif op < 0.45:                                 # truncate
            size = rnd.choice([0, rnd.randrange(0, 600), pick_off(rnd)])
            os.ftruncate(a, size)
            os.ftruncate(b, size)
        elif op < 0.75:                                 # read and compare
            off = pick_off(rnd)
            n = rnd.choice([1, 4096, 131072, CHUNK + 10])
            x, y = os.pread(a, n, off), os.pread(b, n, off)
            if x != y:
                fail(step, f"read {n} at {off}: {len(x)} vs {len(y)} bytes differ")
        elif op < 0.82:                                 # size
            sa, sb = os.fstat(a).st_size, os.fstat(b).st_size
            if sa != sb:
                fail(step, f"fstat size {sa}, expected {sb}")
        elif op < 0.88:                                 # fsync
            os.fsync(a)
        elif op < 0.94 and len(fds) < 4:                # another descriptor
            reopen()
        elif len(fds) > 1:                              # close one
            i = rnd.randrange(len(fds))
            os.close(fds[i][0])
            os.close(fds[i][1])
            del fds[i]
    for a, b in fds:
        os.close(a)
        os.close(b)
    with open(path, "rb") as f1, open(ref, "rb") as f2:
        if f1.read() != f2.read():
            fail(ops, "content differs after the last close")
    print(f"{ops} operations identical, final size {os.stat(ref).st_size}")


if __name__ == "__main__":
    main()
