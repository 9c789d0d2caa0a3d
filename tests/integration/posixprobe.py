#!/usr/bin/env python3
# posixprobe: runs a script of file-system operations under one directory and
# prints one result per operation, so fuse-posix.sh can run the same script on
# tmpfs and on a dnsfs mount and compare them line by line.
#
# usage: posixprobe.py ROOT <SCRIPT
# A script line is `[as UID GID[,GID...]] OP ARG...` (shell-like quoting, #
# comments; the GIDs after the first are supplementary groups);
# paths are relative to ROOT. The result is "0" or the errno name, followed
# for queries by their values. The umask is 0, so modes are exactly as given.
import ctypes
import errno
import os
import shlex
import socket
import stat
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class Dirent(ctypes.Structure):       # glibc's struct dirent on 64-bit Linux
    _fields_ = [("d_ino", ctypes.c_uint64), ("d_off", ctypes.c_int64),
                ("d_reclen", ctypes.c_ushort), ("d_type", ctypes.c_ubyte),
                ("d_name", ctypes.c_char * 256)]


libc.opendir.restype = ctypes.c_void_p
libc.opendir.argtypes = [ctypes.c_char_p]
libc.readdir.restype = ctypes.POINTER(Dirent)
libc.readdir.argtypes = [ctypes.c_void_p]
libc.closedir.argtypes = [ctypes.c_void_p]
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]

DT = {1: "fifo", 2: "chr", 4: "dir", 6: "blk", 8: "reg", 10: "lnk", 12: "sock", 0: "unknown"}
FTYPE = {stat.S_IFREG: "reg", stat.S_IFDIR: "dir", stat.S_IFLNK: "lnk", stat.S_IFIFO: "fifo",
         stat.S_IFSOCK: "sock", stat.S_IFCHR: "chr", stat.S_IFBLK: "blk"}
MKNOD = {"reg": stat.S_IFREG, "fifo": stat.S_IFIFO, "sock": stat.S_IFSOCK,
         "chr": stat.S_IFCHR, "blk": stat.S_IFBLK, "none": 0}


def oserr(fn, *args):
    if fn(*args) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def field(st, f):
    if f == "type":
        return FTYPE.get(stat.S_IFMT(st.st_mode), "?")
    if f == "mode":
        return "%o" % stat.S_IMODE(st.st_mode)
    if f == "rdev":
        return "%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    if f in ("atime", "mtime", "ctime"):
        return str(getattr(st, "st_%s_ns" % f))
    return str(getattr(st, "st_" + f))


def times(a):
    if a == "now":
        return Timespec(0, UTIME_NOW)
    if a == "omit":
        return Timespec(0, UTIME_OMIT)
    sec, nsec = a.split(".")
    return Timespec(int(sec), int(nsec))


def openflags(spec):
    f = 0
    for n in spec.split(","):
        f |= getattr(os, n)
    return f


def readdir(path):
    d = libc.opendir(os.fsencode(path))
    if not d:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    out, dots = [], []
    try:
        while True:
            ent = libc.readdir(d)
            if not ent:
                break
            name = ent.contents.d_name.decode()
            out.append("%s:%s" % (name, DT.get(ent.contents.d_type, "?")))
            if name in (".", ".."):
                want = os.lstat(os.path.join(path, name)).st_ino
                dots.append("%s=%s" % (name, "ino" if ent.contents.d_ino == want else "bad-ino"))
    finally:
        libc.closedir(d)
    return " ".join(sorted(out) + dots)


def op(argv):
    """Run one operation; return the extra output (values) or ''."""
    o, a = argv[0], argv[1:]
    if o == "mkdir":
        os.mkdir(a[0], int(a[1], 8))
    elif o == "rmdir":
        os.rmdir(a[0])
    elif o == "unlink":
        os.unlink(a[0])
    elif o == "rename":
        os.rename(a[0], a[1])
    elif o == "link":
        os.link(a[0], a[1])
    elif o == "symlink":
        os.symlink(a[0], a[1])
    elif o == "readlink":
        t = os.readlink(a[0])
        return "%d %s" % (len(t), "same" if len(a) < 2 or t == a[1] else "different")
    elif o == "create":                 # O_CREAT|O_EXCL, as creat() would
        os.close(os.open(a[0], os.O_CREAT | os.O_EXCL | os.O_WRONLY, int(a[1], 8)))
    elif o == "open":                   # open PATH FLAGS[,FLAGS] [MODE]
        os.close(os.open(a[0], openflags(a[1]), int(a[2], 8) if len(a) > 2 else 0o644))
    elif o == "mknod":                  # mknod PATH TYPE MODE [MAJOR MINOR]
        dev = os.makedev(int(a[3]), int(a[4])) if len(a) > 3 else 0
        os.mknod(a[0], MKNOD[a[1]] | int(a[2], 8), dev)
    elif o == "mkfifo":
        os.mkfifo(a[0], int(a[1], 8))
    elif o == "bind":                   # a UNIX socket node, then connect to it
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.bind(a[0])
            s.listen(1)
            c.connect(a[0])
            p, _ = s.accept()
            c.sendall(b"ping")
            got = p.recv(4)
            p.close()
            return got.decode()
        finally:
            c.close()
            s.close()
    elif o == "fifo":                   # data through a FIFO node
        r = os.open(a[0], os.O_RDONLY | os.O_NONBLOCK)
        w = os.open(a[0], os.O_WRONLY | os.O_NONBLOCK)
        os.write(w, b"through")
        got = os.read(r, 100)
        os.close(w)
        os.close(r)
        return got.decode()
    elif o == "chmod":
        os.chmod(a[0], int(a[1], 8))
    elif o == "chown":
        os.chown(a[0], int(a[1]), int(a[2]))
    elif o == "lchown":
        os.lchown(a[0], int(a[1]), int(a[2]))
    elif o == "truncate":
        os.truncate(a[0], int(a[1]))
    elif o == "ftruncate":              # ftruncate PATH SIZE [FLAGS]
        fd = os.open(a[0], openflags(a[2]) if len(a) > 2 else os.O_RDWR)
        try:
            os.ftruncate(fd, int(a[1]))
        finally:
            os.close(fd)
    elif o == "createdo":               # createdo PATH MODE ftruncate|posix_fallocate N:
        fd = os.open(a[0], os.O_CREAT | os.O_RDWR, int(a[1], 8))   # on the new descriptor
        try:
            if a[2] == "ftruncate":
                os.ftruncate(fd, int(a[3]))
            else:
                os.posix_fallocate(fd, 0, int(a[3]))
        finally:
            os.close(fd)
    elif o == "write":                  # write PATH TEXT: at offset 0, no O_TRUNC
        fd = os.open(a[0], os.O_WRONLY)
        try:
            os.write(fd, a[1].encode())
        finally:
            os.close(fd)
    elif o == "writestat":              # what fstat says of an open file just written
        fd = os.open(a[0], os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, a[1].encode())
            return "size=%d" % os.fstat(fd).st_size
        finally:
            os.close(fd)
    elif o == "writemode":              # the mode fstat shows right after a write
        fd = os.open(a[0], os.O_RDWR)
        try:
            os.write(fd, a[1].encode())
            return "%o" % stat.S_IMODE(os.fstat(fd).st_mode)
        finally:
            os.close(fd)
    elif o == "cat":
        with open(a[0], "rb") as f:
            return f.read().decode(errors="replace")
    elif o == "zeros":                  # zeros PATH OFF LEN: read back and check
        with open(a[0], "rb") as f:
            f.seek(int(a[1]))
            b = f.read(int(a[2]))
        return "%d %s" % (len(b), "zeros" if b.count(0) == len(b) else "NONZERO")
    elif o == "posix_fallocate":
        fd = os.open(a[0], openflags(a[3]) if len(a) > 3 else os.O_RDWR)
        try:
            os.posix_fallocate(fd, int(a[1]), int(a[2]))
        finally:
            os.close(fd)
    elif o == "fallocate":              # fallocate(2) itself, mode 0 (no emulation)
        fd = os.open(a[0], os.O_RDWR)
        try:
            oserr(libc.fallocate, fd, 0, int(a[1]), int(a[2]))
        finally:
            os.close(fd)
    elif o in ("utimens", "lutimens"):  # utimens PATH ATIME MTIME: now|omit|SEC.NSEC
        ts = (Timespec * 2)(times(a[1]), times(a[2]))
        flags = 0x100 if o == "lutimens" else 0     # AT_SYMLINK_NOFOLLOW
        oserr(libc.utimensat, AT_FDCWD, os.fsencode(a[0]), ts, flags)
    elif o in ("stat", "lstat"):        # stat PATH FIELD[,FIELD]
        st = os.stat(a[0]) if o == "stat" else os.lstat(a[0])
        return " ".join(field(st, f) for f in a[1].split(","))
    elif o == "readdir":
        return readdir(a[0])
    elif o == "ls":
        return " ".join(sorted(os.listdir(a[0])))
    elif o == "umask":
        os.umask(int(a[0], 8))
    elif o == "openunlink":             # open, unlink, then write and fstat the descriptor
        fd = os.open(a[0], os.O_RDWR)
        try:
            os.unlink(a[0])
            os.write(fd, b"still here")
            st = os.fstat(fd)
            return "nlink=%d size=%d %s" % (st.st_nlink, st.st_size, os.pread(fd, 100, 0).decode())
        finally:
            os.close(fd)
    elif o == "sleep":
        time.sleep(float(a[0]))
    else:
        raise SystemExit("posixprobe: unknown operation %r" % o)
    return ""


def run(argv):
    """One operation, optionally as another user: '0 values' or 'ERRNO'."""
    if argv[0] == "as":
        gids = [int(g) for g in argv[2].split(",")]
        uid, gid, rest = int(argv[1]), gids[0], argv[3:]
        rd, wr = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rd)
            try:
                os.setgroups(gids[1:])
                os.setresgid(gid, gid, gid)
                os.setresuid(uid, uid, uid)
                out = run(rest)
            except BaseException as ex:     # never return into the parent's loop
                out = "child: %s" % ex
            os.write(wr, out.encode())
            os._exit(0)
        os.close(wr)
        chunks = []
        while True:
            b = os.read(rd, 65536)
            if not b:
                break
            chunks.append(b)
        os.close(rd)
        os.waitpid(pid, 0)
        return b"".join(chunks).decode()
    if argv[0] == "changed":            # changed PATH[>AFTER] FIELD[,FIELD] -- OP...
        before, _, after = argv[1].partition(">")
        fields = argv[2].split(",")
        try:
            st0 = os.lstat(before)
            time.sleep(0.05)            # tmpfs stamps with a coarse (tick) clock
            res = run(argv[4:])
            st1 = os.lstat(after or before)
        except OSError as ex:
            return "changed: " + errno.errorcode.get(ex.errno, str(ex.errno))
        return res + " " + " ".join("%s:%s" % (f, "changed" if field(st0, f) != field(st1, f)
                                              else "same") for f in fields)
    if argv[0] == "born":               # born DIR NEW -- OP...: NEW's times are past DIR's ctime
        try:
            t0 = os.lstat(argv[1]).st_ctime_ns
            time.sleep(0.05)
            res = run(argv[4:])
            st = os.lstat(argv[2])
        except OSError as ex:
            return "born: " + errno.errorcode.get(ex.errno, str(ex.errno))
        return res + " " + " ".join("%s:%s" % (f, "newer" if getattr(st, "st_%s_ns" % f) > t0
                                              else "older") for f in ("atime", "mtime", "ctime"))
    try:
        v = op(argv)
    except OSError as ex:
        return errno.errorcode.get(ex.errno, str(ex.errno))
    return "0" + (" " + v if v else "")


def main():
    os.chdir(sys.argv[1])
    os.umask(0)
    for line in sys.stdin:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        print(run(shlex.split(line)), flush=True)


main()
