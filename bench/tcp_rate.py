#!/usr/bin/env python3
"""Loopback TCP rate: a sender process streams BYTES to a receiver process on 127.0.0.1.

    tcp_rate.py BYTES

Prints "BYTES SECONDS" (time from connect to the receiver's last byte).
"""
import socket
import subprocess
import sys
import time

CHUNK = 1 << 20


def receive(port):
    s = socket.create_connection(("127.0.0.1", port))
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    n = 0
    while True:
        k = s.recv_into(view)
        if not k:
            break
        n += k
    print(n, flush=True)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--receive":
        receive(int(sys.argv[2]))
        return
    total = int(sys.argv[1])
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    port = ls.getsockname()[1]
    rx = subprocess.Popen([sys.executable, __file__, "--receive", str(port)], stdout=subprocess.PIPE, text=True)
    conn, _ = ls.accept()
    data = memoryview(bytes(CHUNK))
    t0 = time.perf_counter()
    sent = 0
    while sent < total:
        k = min(CHUNK, total - sent)
        conn.sendall(data[:k])
        sent += k
    conn.shutdown(socket.SHUT_WR)
    got = int(rx.stdout.read().strip())
    rx.wait()
    dt = time.perf_counter() - t0
    conn.close()
    if got != total:
        sys.exit(f"tcp_rate: the receiver got {got} of {total} bytes")
    print(total, f"{dt:.4f}")


if __name__ == "__main__":
    main()
