#!/usr/bin/env python3
"""TCP rate across a link: one sender streams BYTES to one receiver, which may sit in another
network namespace (run each side under `ip netns exec`). bench/tcp_rate.py does the same on
loopback inside one process pair.

    link_tcp_rate.py receive ADDR      listen on ADDR:0, print "port N", take one connection,
                                       read to EOF, answer with the count (8 bytes), print it
    link_tcp_rate.py send ADDR:PORT BYTES
                                       connect, send BYTES, half-close, wait for the count;
                                       prints "BYTES SECONDS" (connect to the receiver's count)
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tcp_rate import drain, stream  # noqa: E402


def receive(addr):
    ls = socket.socket()
    ls.bind((addr, 0))
    ls.listen(1)
    print("port", ls.getsockname()[1], flush=True)
    conn, _ = ls.accept()
    n = drain(conn)
    conn.sendall(struct.pack("<Q", n))
    conn.close()
    print("received", n, flush=True)


def send(target, total):
    host, port = target.rsplit(":", 1)
    t0 = time.perf_counter()
    s = socket.create_connection((host, int(port)))
    stream(s, total)
    answer = b""
    while len(answer) < 8:
        part = s.recv(8 - len(answer))
        if not part:
            break
        answer += part
    dt = time.perf_counter() - t0
    s.close()
    got = struct.unpack("<Q", answer)[0] if len(answer) == 8 else -1
    if got != total:
        sys.exit(f"link_tcp_rate: the receiver got {got} of {total} bytes")
    print(total, f"{dt:.4f}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "receive":
        receive(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
