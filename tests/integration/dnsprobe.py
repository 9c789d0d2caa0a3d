#!/usr/bin/env python3
# dnsprobe: hand-made DNS packets for the mds tests, where dig cannot go:
# pipelined TCP queries, unknown opcodes, and malformed packets. Standard
# library only. Usage: dnsprobe.py COMMAND PORT [ARGS]; prints one result
# line per probe and exits non-zero if a probe's expectation failed.
import os
import random
import socket
import struct
import sys

HOST = "127.0.0.1"


def name(text):
    out = b""
    for label in text.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qid, qname, qtype=6, flags=0, opcode=0, qdcount=1, extra=b"", counts=(0, 0, 0)):
    hdr = struct.pack(">HHHHHH", qid, flags | (opcode << 11), qdcount, *counts)
    return hdr + name(qname) + struct.pack(">HH", qtype, 1) + extra


def udp(port, pkt, timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(pkt, (HOST, port))
        return s.recv(65535)
    except socket.timeout:
        return None
    finally:
        s.close()


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def tcp_read_msg(s):
    (n,) = struct.unpack(">H", recv_exact(s, 2))
    return recv_exact(s, n)


def rcode(msg):
    return struct.unpack(">H", msg[2:4])[0] & 0xF


def cmd_pipeline(port, n="8", zone="dnsfs.test."):
    """n queries written in one go on one TCP connection; every id answered."""
    n = int(n)
    s = socket.create_connection((HOST, port), timeout=5)
    ids = random.sample(range(1, 65535), n)
    names = [zone if i % 2 == 0 else "nx%d.%s" % (i, zone) for i in range(n)]
    data = b""
    for qid, qn in zip(ids, names):
        q = query(qid, qn, 6)
        data += struct.pack(">H", len(q)) + q
    # Split the stream at an odd place: the server must reassemble.
    s.sendall(data[:3])
    s.sendall(data[3:])
    got = {}
    for _ in range(n):
        m = tcp_read_msg(s)
        got[struct.unpack(">H", m[:2])[0]] = rcode(m)
    s.close()
    ok = sorted(got) == sorted(ids) and all(
        got[qid] == (0 if i % 2 == 0 else 3) for i, qid in enumerate(ids))
    print("pipeline %d/%d answered %s" % (len(got), n, "ok" if ok else "WRONG"))
    return ok


def cmd_opcode(port, op="3"):
    m = udp(port, query(4242, "dnsfs.test.", 6, opcode=int(op)))
    print("opcode %s rcode %s" % (op, None if m is None else rcode(m)))
    return m is not None


def cmd_rcode(port, kind):
    """The rcode the server gives one malformed-but-answerable packet."""
    pkts = {
        # QDCOUNT 0, 2
        "qd0": struct.pack(">HHHHHH", 7, 0, 0, 0, 0, 0),
        "qd2": query(7, "dnsfs.test.", qdcount=2),
        # ANCOUNT says 5 records that are not there
        "counts": query(7, "dnsfs.test.", counts=(5, 0, 0)),
        # question name pointing at itself
        "loop": struct.pack(">HHHHHH", 7, 0, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack(">HH", 6, 1),
        # question cut in the middle of its name
        "cut": query(7, "dnsfs.test.")[:17],
    }
    m = udp(port, pkts[kind])
    print("%s rcode %s" % (kind, None if m is None else rcode(m)))
    return True


def garbage_packets(rng):
    yield b""
    yield b"\x00"
    yield os.urandom(11)                                    # short header
    for _ in range(300):
        yield os.urandom(rng.randint(12, 600))             # random bytes
    base = query(1, "a.b.dnsfs.test.")
    for i in range(len(base)):
        yield base[:i]                                      # every truncation
    for _ in range(200):                                    # bit flips
        b = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        yield bytes(b)
    hdr = struct.pack(">HHHHHH", 9, 0, 1, 0, 0, 0)
    yield hdr + b"\xc0\x0c" + b"\0\1\0\1"                 # pointer to itself
    yield hdr + b"\x01a\xc0\x0c" + b"\0\1\0\1"            # pointer back into the name
    yield hdr + b"\xc0\xff" + b"\0\1\0\1"                 # pointer past the end
    yield hdr + b"\x3fa" + b"\0\1\0\1"                    # label longer than packet
    yield hdr + (b"\x3f" + b"a" * 63) * 5 + b"\0\0\1\0\1"  # name > 255 bytes
    yield hdr + b"\x80abc\0\0\1\0\1"                       # reserved label type
    yield struct.pack(">HHHHHH", 9, 0, 65535, 65535, 65535, 65535)  # huge counts
    yield query(9, "dnsfs.test.", counts=(0, 0, 2), extra=b"\0\0\x29\x04\xd0" + b"\0" * 6)
    # an UPDATE for another zone and one with garbage sections
    yield query(9, "example.com.", opcode=5, counts=(0, 3, 0)) + os.urandom(40)
    yield query(9, "dnsfs.test.", opcode=5, counts=(1, 1, 1)) + os.urandom(64)


def cmd_garbage(port, seed="1"):
    """Malformed packets over UDP and TCP; the server must stay up."""
    rng = random.Random(int(seed))
    sent = 0
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for p in garbage_packets(rng):
        u.sendto(p, (HOST, port))
        sent += 1
    u.close()
    # TCP: the same packets, framed, on a few connections; some framing lies.
    for chunk in range(4):
        try:
            s = socket.create_connection((HOST, port), timeout=3)
            for i, p in enumerate(garbage_packets(rng)):
                if i % 4 != chunk:
                    continue
                s.sendall(struct.pack(">H", len(p)) + p)
                sent += 1
            s.sendall(b"\xff\xff" + b"short")   # length larger than what follows
            s.close()
        except OSError:
            pass
    s = socket.create_connection((HOST, port), timeout=3)
    s.sendall(b"\x00\x00")                      # an empty message closes it
    s.close()
    print("garbage sent %d packets" % sent)
    return True


def tsig_key(path):
    """(name, secret) of the first key of a BIND key file."""
    import base64
    import re
    text = open(path).read()
    m = re.search(r'key\s+"?([^"\s{]+)"?\s*\{.*?secret\s+"([^"]+)"', text, re.S)
    return m.group(1), base64.b64decode(m.group(2))


def tsig_sign(msg, keyname, secret):
    """msg with a TSIG RR (hmac-sha256, RFC 8945) appended."""
    import hashlib
    import hmac
    import time
    kn = name(keyname.lower())
    alg = name("hmac-sha256.")
    now = int(time.time())
    t48 = struct.pack(">HI", now >> 32, now & 0xFFFFFFFF)
    variables = kn + struct.pack(">HI", 255, 0) + alg + t48 + struct.pack(">HHH", 300, 0, 0)
    mac = hmac.new(secret, msg + variables, hashlib.sha256).digest()
    rdata = alg + t48 + struct.pack(">HH", 300, len(mac)) + mac + msg[:2] + struct.pack(">HH", 0, 0)
    rr = kn + struct.pack(">HHIH", 250, 255, 0, len(rdata)) + rdata
    arcount = struct.unpack(">H", msg[10:12])[0] + 1
    return msg[:10] + struct.pack(">H", arcount) + msg[12:] + rr


def update_add(qid, zone, owner, text, keyfile):
    """A signed UPDATE adding one TXT RR."""
    data = text.encode()
    rr = name(owner) + struct.pack(">HHIH", 16, 1, 60, len(data) + 1) + bytes([len(data)]) + data
    msg = struct.pack(">HHHHHH", qid, 5 << 11, 1, 0, 1, 0) + name(zone) + struct.pack(">HH", 6, 1) + rr
    return tsig_sign(msg, *tsig_key(keyfile))


def frame(m):
    return struct.pack(">H", len(m)) + m


def cmd_mixed(port, keyfile, zone="dnsfs.test."):
    """An UPDATE then a query in one TCP write: the query is answered first
    (the update waits for its commit), both with their ids."""
    s = socket.create_connection((HOST, port), timeout=5)
    s.sendall(frame(update_add(1001, zone, "mixed." + zone, "m", keyfile)) +
              frame(query(1002, zone, 6)))
    order = []
    for _ in range(2):
        m = tcp_read_msg(s)
        order.append("%d:%d" % (struct.unpack(">H", m[:2])[0], rcode(m)))
    s.close()
    print("order " + " ".join(order))
    return True


def cmd_update_rst(port, keyfile, n="30", zone="dnsfs.test."):
    """Send signed UPDATEs and reset the connection at once, n times: a
    connection gone with its update pending must not hurt the server."""
    for i in range(int(n)):
        s = socket.create_connection((HOST, port), timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.sendall(frame(update_add(2000 + i, zone, "rst%d.%s" % (i, zone), "r", keyfile)) +
                  frame(query(3000 + i, zone, 6)))
        if i % 2:
            s.shutdown(socket.SHUT_WR)
        s.close()                               # RST
    print("reset %s connections" % n)
    return True


def closed(s, wait):
    """True if the peer closes s within wait seconds."""
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def cmd_conns(port, limit):
    """limit connections stay open; one more is closed at once."""
    limit = int(limit)
    keep = [socket.create_connection((HOST, port), timeout=5) for _ in range(limit)]
    extra = socket.create_connection((HOST, port), timeout=5)
    over = closed(extra, 1.0)
    open_ok = not any(closed(s, 0.1) for s in keep)
    for s in keep + [extra]:
        s.close()
    print("limit %s: kept %s, extra closed %s" % (limit, open_ok, over))
    return True


def cmd_idle(port, secs):
    """A connection with nothing to do is closed after about secs."""
    s = socket.create_connection((HOST, port), timeout=5)
    s.sendall(frame(query(5, "dnsfs.test.", 6)))
    tcp_read_msg(s)
    early = closed(s, float(secs) * 0.5)
    late = early or closed(s, float(secs) * 2 + 1)
    s.close()
    print("idle: closed early %s, closed later %s" % (early, late))
    return True


def cmd_unsigned(port, n="1", zone="dnsfs.test."):
    """n unsigned UPDATEs over UDP, one after the other: each is REFUSED."""
    codes = {}
    for i in range(int(n)):
        data = b"x"
        rr = name("unsigned%d.%s" % (i, zone)) + struct.pack(">HHIH", 16, 1, 60, 2) + b"\x01" + data
        msg = struct.pack(">HHHHHH", 6000 + i, 5 << 11, 1, 0, 1, 0) + name(zone) + \
            struct.pack(">HH", 6, 1) + rr
        m = udp(port, msg)
        key = None if m is None else rcode(m)
        codes[key] = codes.get(key, 0) + 1
    print(" ".join("rcode %s x%d" % (k, v) for k, v in sorted(codes.items(), key=str)))
    return True


def cmd_response(port):
    """A message with QR set (a response): the server must stay silent."""
    m = udp(port, query(77, "dnsfs.test.", 6, flags=0x8000), timeout=0.5)
    print("response: %s" % ("no answer" if m is None else "answered rcode %d" % rcode(m)))
    return True


def cmd_hold(port, secs):
    """Keep one TCP connection open for secs seconds ("open" once it is)."""
    import time
    s = socket.create_connection((HOST, port), timeout=5)
    print("open", flush=True)
    time.sleep(float(secs))
    s.close()
    return True


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: dnsprobe.py COMMAND PORT [ARGS] (commands: the cmd_ functions)\n")
        return 2
    fn = globals().get("cmd_" + sys.argv[1])
    if fn is None:
        sys.stderr.write("dnsprobe: unknown command %s\n" % sys.argv[1])
        return 2
    return 0 if fn(int(sys.argv[2]), *sys.argv[3:]) else 1


if __name__ == "__main__":
    sys.exit(main())
