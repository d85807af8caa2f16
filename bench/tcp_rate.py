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


def drain(sock):
    """Reads the socket to EOF; returns the byte count."""
    view = memoryview(bytearray(CHUNK))
    n = 0
    while True:
        k = sock.recv_into(view)
        if not k:
            return n
        n += k


def stream(sock, total):
    """Writes TOTAL zero bytes, then half-closes."""
    data = memoryview(bytes(CHUNK))
    sent = 0
    while sent < total:
        k = min(CHUNK, total - sent)
        sock.sendall(data[:k])
        sent += k
    sock.shutdown(socket.SHUT_WR)


def receive(port):
    print(drain(socket.create_connection(("127.0.0.1", port))), flush=True)


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
    t0 = time.perf_counter()
    stream(conn, total)
    got = int(rx.stdout.read().strip())
    rx.wait()
    dt = time.perf_counter() - t0
    conn.close()
    if got != total:
        sys.exit(f"tcp_rate: the receiver got {got} of {total} bytes")
    print(total, f"{dt:.4f}")


if __name__ == "__main__":
    main()
