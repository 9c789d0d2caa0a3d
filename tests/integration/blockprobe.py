#!/usr/bin/env python3
# blockprobe: a second, independent block client for the blockd tests, in
# Python's standard library: it signs requests from the formula documented in
# lib/blockauth.h (not with lib/blockauth), and times keep-alive requests.
# Usage: blockprobe.py COMMAND PORT [ARGS]; prints one result line.
import base64
import hashlib
import hmac
import http.client
import os
import re
import sys
import time

HOST = "127.0.0.1"


def load_key(path):
    text = open(path).read()
    name = re.search(r'key\s+"([^"]+)"', text).group(1)
    secret = base64.b64decode(re.search(r'secret\s+"([^"]+)"', text).group(1))
    return name, secret


def authorization(key, method, path, body=b""):
    name, secret = key
    ts = str(int(time.time()))
    nonce = os.urandom(16).hex()
    text = "\n".join([method, path, ts, nonce, hashlib.sha256(body).hexdigest()])
    sig = hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()
    return "DNSFS-HMAC-SHA256 key=%s, ts=%s, nonce=%s, sig=%s" % (name, ts, nonce, sig)


def put(port, keyfile, datafile):
    """PUT a file signed by hand; print the status and then GET's."""
    body = open(datafile, "rb").read()
    path = "/v1/blocks/" + hashlib.sha256(body).hexdigest()
    c = http.client.HTTPConnection(HOST, port, timeout=10)
    c.request("PUT", path, body=body,
              headers={"Authorization": authorization(load_key(keyfile), "PUT", path, body)})
    r = c.getresponse()
    r.read()
    c.request("GET", path)
    g = c.getresponse()
    same = g.read() == body
    print("put %d get %d same %s" % (r.status, g.status, same))


def keepalive(port, block, n):
    """n GETs of one block on one connection: the slowest and the total."""
    c = http.client.HTTPConnection(HOST, port, timeout=10)
    times = []
    for _ in range(n):
        t = time.monotonic()
        c.request("GET", "/v1/blocks/" + block)
        r = c.getresponse()
        r.read()
        if r.status != 200:
            print("status %d" % r.status)
            return 1
        times.append(time.monotonic() - t)
    print("total_ms %d max_ms %d" % (sum(times) * 1000, max(times) * 1000))
    return 0


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "put":
        return put(port, sys.argv[3], sys.argv[4])
    if cmd == "keepalive":
        return keepalive(port, sys.argv[3], int(sys.argv[4]))
    print("unknown command " + cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main() or 0)
