#!/usr/bin/env python3
"""Decode the serial link frames one side of a Cradle session wrote and read, from an strace
log, to count first sends and resends, tell resends after a selective-acknowledgement hole from
resends after a timeout, and see how much was queued ahead of each frame when it went out.

    strace -f -tt -e trace=openat,read,write -xx -s 4096 -o TRACE cradle device connect --serial PTY …
    serial_trace.py TRACE PTY BYTES_PER_SECOND

Frames (docs/protocol.md 1.3) are COBS-encoded and end in 0x00; before stuffing:
kind u8 | session u16 | seq u16 | ack u16 | sack u32 | payload | crc32 u32 (little-endian).
"Queued ahead" assumes the line drains BYTES_PER_SECOND from the first write on whenever
anything is queued: bytes written so far minus bytes the line can have carried by then.
"""
import re
import struct
import sys
import zlib

KINDS = {1: "Offer", 2: "Answer", 3: "Data", 4: "Ack", 5: "Close", 6: "Reset"}
OPEN_RE = re.compile(r'^(\d+) +(\S+) openat\([^,]*, "((?:\\x[0-9a-f]{2})*)".*\) = (\d+)')  # -xx: paths in hex too
IO_RE = re.compile(r'^(\d+) +(\S+) (read|write)\((\d+), "((?:\\x[0-9a-f]{2})*)".*\) = (\d+)')


def unhex(s):
    return bytes.fromhex(s.replace("\\x", ""))


def cobs_decode(data):
    out = bytearray()
    i = 0
    while i < len(data):
        code = data[i]
        block = data[i + 1:i + code]
        if code == 0 or len(block) != code - 1:
            return None
        out += block
        i += code
        if code < 0xFF and i < len(data):
            out.append(0)
    return bytes(out)


def seconds(stamp):
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


class Deframer:
    """Bytes in, (kind, seq, ack, sack, payload length) out per intact frame."""

    def __init__(self):
        self.pending = bytearray()
        self.bad = 0

    def feed(self, data):
        for b in data:
            if b != 0:
                self.pending.append(b)
                continue
            raw = cobs_decode(bytes(self.pending))
            self.pending.clear()
            if raw is None or len(raw) < 15 or zlib.crc32(raw[:-4]) != struct.unpack_from("<I", raw, len(raw) - 4)[0]:
                self.bad += 1
                continue
            kind, _, seq, ack, sack = struct.unpack_from("<BHHHI", raw)
            yield KINDS.get(kind, str(kind)), seq, ack, sack, len(raw) - 15


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    trace, pty, rate = sys.argv[1], sys.argv[2], float(sys.argv[3])
    fds = set()
    events = []  # (time, "read"|"write", bytes)
    for line in open(trace):
        m = OPEN_RE.match(line)
        if m and unhex(m.group(3)).decode(errors="replace") == pty:
            fds.add(m.group(4))
            continue
        m = IO_RE.match(line)
        if m and m.group(4) in fds and m.group(6) != "0":
            events.append((seconds(m.group(2)), m.group(3), unhex(m.group(5))))
    writes = [e for e in events if e[1] == "write"]
    if not writes:
        sys.exit(f"serial_trace: no writes to {pty} in {trace}")

    t0 = writes[0][0]
    written = 0
    out, back = Deframer(), Deframer()
    sent = {}       # seq -> [time of each send]
    first_ahead = []
    resends = []    # (time since previous send, queued ahead, cause)
    kinds = {}
    last_sack = (0, 0, -1.0)  # ack, sack, time of the latest frame read from the peer
    acked_at = {}   # seq -> time its acknowledgement was read
    acks_with_holes = 0
    for t, op, data in events:
        if op == "read":
            for kind, seq, ack, sack, n in back.feed(data):
                for q in list(sent):
                    if q not in acked_at and 0 < (ack - q) % 65536 < 32768:
                        acked_at[q] = t
                last_sack = (ack, sack, t)
                acks_with_holes += sack != 0
            continue
        written += len(data)
        for kind, seq, ack, sack, n in out.feed(data):
            kinds[kind] = kinds.get(kind, 0) + 1
            if kind not in ("Data", "Close"):
                continue
            ahead = max(0.0, written - rate * (t - t0))
            if seq in sent:
                a, s, _ = last_sack
                d = (seq - a) % 65536  # sack bit i: the peer holds ack + 1 + i
                hole = s != 0 and (d == 0 or (d - 1 < s.bit_length() - 1 and not (s >> (d - 1)) & 1))
                resends.append((t - sent[seq][-1], ahead, "after a SACK hole" if hole else "after a timeout"))
            else:
                first_ahead.append(ahead)
            sent.setdefault(seq, []).append(t)

    span = writes[-1][0] - t0
    data_sends = sum(len(v) for v in sent.values())
    print(f"{len(writes)} writes to {pty} over {span:.1f} s, {written:,} bytes ({written / span:,.0f} B/s offered; the line carries {rate:,.0f} B/s)")
    print("frames written: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + (f", not decodable {out.bad}" if out.bad else ""))
    print(f"frames read from the peer with a SACK bitmap (a hole at the peer): {acks_with_holes}" + (f"; not decodable {back.bad}" if back.bad else ""))
    print(f"data frames: {data_sends} sends of {len(sent)} sequence numbers: {len(resends)} resends ({len(resends) / max(1, data_sends) * 100:.0f} % of the data frames written)")
    if first_ahead:
        print(f"bytes queued ahead of a frame at its first send (estimated): median {median(first_ahead):,.0f} ({median(first_ahead) / rate:.2f} s of line), max {max(first_ahead):,.0f} ({max(first_ahead) / rate:.2f} s)")
    for cause in ("after a timeout", "after a SACK hole"):
        rs = [r for r in resends if r[2] == cause]
        if rs:
            print(f"resends {cause}: {len(rs)}; time since the frame's previous send: median {median(r[0] for r in rs):.2f} s "
                  f"(min {min(r[0] for r in rs):.2f}, max {max(r[0] for r in rs):.2f}); queued ahead then: median {median(r[1] for r in rs):,.0f} bytes")
    once = [acked_at[q] - v[0] for q, v in sent.items() if len(v) == 1 and q in acked_at]
    if once:
        print(f"round trip of frames sent once (write to reading the acknowledgement): median {median(once):.2f} s (min {min(once):.2f}, max {max(once):.2f}), {len(once)} frames")
    if sent:
        print(f"most sends of one frame: {max(len(v) for v in sent.values())}")


if __name__ == "__main__":
    main()
