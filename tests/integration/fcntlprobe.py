#!/usr/bin/env python3
# fcntlprobe: POSIX record locks on one file, step by step, for fuse-fcntl.sh.
# usage: fcntlprobe.py PATH STEP...; one line of output per step (flushed):
#   lock:r|w:START:LEN    F_SETLK         -> "lock ok" | "lock EAGAIN" | "lock <ERRNO>"
#   lockw:r|w:START:LEN   F_SETLKW        -> "lockw ok <seconds waited> <unix time granted>"
#                                            | "lockw EINTR"
#   unlock:START:LEN      F_SETLK F_UNLCK -> "unlock ok"
#   get:r|w:START:LEN     F_GETLK         -> "get none" | "get r|w START LEN PID"
#   reclose               open and close another descriptor of PATH -> "reclose ok"
#   write:TEXT            replace the content by TEXT (through the locked descriptor)
#   close                 close the locked descriptor -> "close ok"
#   read                  read PATH through a new descriptor -> "read <content>"
#   touch:FILE            create FILE (a readiness signal for the script)
#   waitfile:FILE         wait (at most 120 s) until FILE exists
#   sleep                 sleep until killed
# LEN 0 is "to the end of the file", as in struct flock.
import errno
import fcntl
import os
import signal
import struct
import sys
import time

FLOCK = "hhqqi"     # struct flock on Linux x86_64/aarch64: type, whence, start, len, pid
TYPES = {"r": fcntl.F_RDLCK, "w": fcntl.F_WRLCK}


def flock_arg(typ, start, length):
    return struct.pack(FLOCK, typ, os.SEEK_SET, start, length, 0)


def out(*words):
    print(*words, flush=True)


def main():
    # a background job of a script starts with SIGINT ignored: take Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)
    path = sys.argv[1]
    fd = os.open(path, os.O_RDWR)
    for step in sys.argv[2:]:
        f = step.split(":")
        cmd = f[0]
        if cmd in ("lock", "lockw"):
            arg = flock_arg(TYPES[f[1]], int(f[2]), int(f[3]))
            t0 = time.monotonic()
            try:
                fcntl.fcntl(fd, fcntl.F_SETLK if cmd == "lock" else fcntl.F_SETLKW, arg)
                out(cmd, "ok", "%.2f" % (time.monotonic() - t0), "%.3f" % time.time())
            except KeyboardInterrupt:
                out(cmd, "EINTR")
            except OSError as ex:
                name = "EDEADLK" if ex.errno == errno.EDEADLK else \
                    errno.errorcode.get(ex.errno, str(ex.errno))
                out(cmd, "EAGAIN" if ex.errno in (errno.EAGAIN, errno.EACCES) else name)
        elif cmd == "unlock":
            fcntl.fcntl(fd, fcntl.F_SETLK, flock_arg(fcntl.F_UNLCK, int(f[1]), int(f[2])))
            out("unlock ok")
        elif cmd == "get":
            res = fcntl.fcntl(fd, fcntl.F_GETLK, flock_arg(TYPES[f[1]], int(f[2]), int(f[3])))
            typ, _, start, length, pid = struct.unpack(FLOCK, res[:struct.calcsize(FLOCK)])
            if typ == fcntl.F_UNLCK:
                out("get none")
            else:
                out("get", "w" if typ == fcntl.F_WRLCK else "r", start, length, pid)
        elif cmd == "reclose":
            os.close(os.open(path, os.O_RDONLY))
            out("reclose ok")
        elif cmd == "write":
            data = step[len("write:"):].encode()
            os.pwrite(fd, data, 0)
            os.ftruncate(fd, len(data))
        elif cmd == "close":
            os.close(fd)
            out("close ok")
        elif cmd == "read":
            with open(path) as fh:
                out("read", fh.read().strip())
        elif cmd == "touch":
            open(f[1], "w").close()
        elif cmd == "waitfile":
            deadline = time.monotonic() + 120
            while not os.path.exists(f[1]) and time.monotonic() < deadline:
                time.sleep(0.02)
        elif cmd == "sleep":
            while True:
                time.sleep(60)
        else:
            out("bad step", step)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
