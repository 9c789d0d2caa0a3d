#!/usr/bin/env python3
"""genzone.py: a dnsfs metadata zone of N records for benchmarks, and the
dnsperf query and update files that go with it.

The zone is what a file system of N/2 files in 1,000 directories looks like:
for each file a dentry CNAME <h(name)>.<dir>.d.Z -> <ino>.i.Z and an inode TXT
record in the dnsfs format. Queries: 45% dentry lookups (answered with the
CNAME and the inode TXT), 45% inode reads, 10% names that do not exist.
usage: genzone.py ZONE N OUTDIR"""
import hashlib
import os
import random
import sys

zone, n, out = sys.argv[1].rstrip('.') + '.', int(sys.argv[2]), sys.argv[3]
files = n // 2
ndirs = 1000
rnd = random.Random(42)


def h(name):
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def inode(ino, size):
    t = 1700000000 + ino
    blk = hashlib.sha256(b'%d' % ino).hexdigest()
    return ('"v=1 type=f mode=0644 uid=1000 gid=1000 nlink=1 size=%d '
            'mtime=%d.000000000 ctime=%d.000000000 atime=%d.000000000 ver=1 " '
            '"rep=3 b=0:%d:%s"' % (size, t, t, t, size, blk))


dentries, inodes = [], []
with open(os.path.join(out, 'zone'), 'w') as f:
    f.write('$ORIGIN %s\n$TTL 1\n' % zone)
    f.write('@ IN SOA ns1 hostmaster 1 3600 600 86400 1\n@ IN NS ns1\nns1 IN A 127.0.0.1\n')
    for i in range(files):
        ino = 1000 + i
        d = 2 + i % ndirs
        name = 'file-%d' % i
        dn = '%s.%d.d' % (h(name), d)
        f.write('%s IN CNAME %d.i\n' % (dn, ino))
        f.write('%d.i IN TXT %s\n' % (ino, inode(ino, 4096 + i % 100000)))
        dentries.append(dn + '.' + zone)
        inodes.append('%d.i.%s' % (ino, zone))

with open(os.path.join(out, 'queries'), 'w') as f:
    for _ in range(200000):
        r = rnd.random()
        if r < 0.45:
            f.write('%s TXT\n' % rnd.choice(dentries))
        elif r < 0.90:
            f.write('%s TXT\n' % rnd.choice(inodes))
        else:
            f.write('%s.%d.d.%s TXT\n' % (h('missing-%d' % rnd.randrange(10**9)),
                                        2 + rnd.randrange(ndirs), zone))

# Updates: each creates one new inode record (what a file create commits).
with open(os.path.join(out, 'updates'), 'w') as f:
    for i in range(200000):
        ino = 10**9 + i
        f.write('%s\nadd %d.i.%s 1 TXT %s\nsend\n' % (zone, ino, zone, inode(ino, 4096)))
