#!/usr/bin/env python3
"""Summarise a `perf record` of a cradle process by what the time went to.

    perf_summary.py PERF.DATA TITLE [--pid PID]   (PID: the process, all its threads; default: everything)

Reads `perf report --no-children --sort pid,dso,sym` (self time per thread and symbol), keeps the
threads of PID, and sorts the symbols
into kinds of work: zstd (ZstdSharp, the managed port), SHA-256, the chunker, TLS (OpenSSL's
ciphers), protobuf, SQLite, the AOT runtime's start-up, exceptions, the thread pool's waiting and
spinning, copies, allocation and GC, and the kernel's parts (copies between
user and kernel, page cache, ext4 and its journal, the network stack, the rest). Prints a
Markdown table: kind, share of samples, the heaviest symbols of that kind.
"""
import re
import subprocess
import sys

RULES = [
    ("zstd (ZstdSharp)", lambda d, s: "ZstdSharp" in s),
    ("SHA-256", lambda d, s: "sha256" in s.lower() or "SHA256" in s),
    ("chunker (FastCDC)", lambda d, s: "Chunker" in s),
    ("TLS ciphers (OpenSSL)", lambda d, s: ("libcrypto" in d or "libssl" in d) and re.search(r"aes|gcm|ghash|chacha|poly1305|gf128|aesni", s, re.I)),
    ("protobuf", lambda d, s: "Google_Protobuf" in s),
    ("SQLite", lambda d, s: "sqlite" in d.lower()),
    ("AOT start-up (rehydrating the executable's data)", lambda d, s: "RehydrateData" in s or "InitializeStatics" in s),
    ("exceptions and stack unwinding", lambda d, s: re.search(r"libunwind|_Unwind|StackFrameIterator|ExceptionHandling|RhThrow|DispatchEx", s)),
    ("thread pool, waiting, spinning, locks", lambda d, s: d != "[kernel.kallsyms]" and re.search(r"sched_yield|SpinWait|pthread_|futex|LowLevelLifoSemaphore|ThreadPool|WaitHandle|Monitor|SpinLock|Thread__Yield|Lock__", s)),
    ("copies in user space", lambda d, s: d != "[kernel.kallsyms]" and re.search(r"Memmove|memcpy|memmove|BulkMove|Buffer__Memmove", s)),
    ("allocation, zeroing and GC", lambda d, s: d != "[kernel.kallsyms]" and re.search(r"gc_heap|WKS|SVR|GCHeap|RhpNew|RhpGcAlloc|GcAlloc|memset|ZeroMemory|RhpAssignRef|Rhp.*Barrier", s)),
    ("native allocation (malloc, free)", lambda d, s: "libc" in d and re.search(r"malloc|free|unlink_chunk|_int_|realloc|calloc", s)),
    ("kernel: copies to and from user space", lambda d, s: d == "[kernel.kallsyms]" and re.search(r"copy_user|copy_to_user|copy_from_user|_copy_to_iter|_copy_from_iter|copy_folio|rep_movs|memcpy_orig|copy_page", s)),
    ("kernel: zeroing pages", lambda d, s: d == "[kernel.kallsyms]" and re.search(r"clear_page|clear_user", s)),
    ("kernel: ext4, journal, block", lambda d, s: d == "[kernel.kallsyms]" and re.search(r"ext4|jbd2|blk_|bio_|loop_|submit_bh|crc32c|mb_find|find_inode|ext4_da", s)),
    ("kernel: page cache and memory", lambda d, s: d == "[kernel.kallsyms]" and re.search(r"filemap|folio|page|lru|mapping|xas_|shmem|pte|tlb|mm_|vma|fault|rmqueue", s)),
    ("kernel: network stack", lambda d, s: d == "[kernel.kallsyms]" and re.search(r"tcp|skb|ip_|__dev|net_|sock|inet|napi|loopback|veth|sch_|tbf", s)),
    ("kernel: other (syscalls, scheduling, locks)", lambda d, s: d == "[kernel.kallsyms]"),
    ("other managed code (cradle)", lambda d, s: d == "cradle" or d.startswith("cradle")),
    ("other", lambda d, s: True),
]


def libcrypto_kinds(addresses):
    """OpenSSL's assembly (SHA-NI, AES-NI) has no symbols in the distribution's libcrypto: name
    an unresolved address by the instructions around it, from one disassembly of the library."""
    if not addresses:
        return {}
    path = next((line.split("=>")[1].strip() for line in subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout.splitlines()
                 if "libcrypto.so.3 " in line and "x86-64" in line), "/usr/lib/x86_64-linux-gnu/libcrypto.so.3")
    lo, hi = min(addresses) - 256, max(addresses) + 256
    asm = subprocess.run(["objdump", "-d", f"--start-address={lo:#x}", f"--stop-address={hi:#x}", path], capture_output=True, text=True).stdout
    ins = []
    for line in asm.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(?:[0-9a-f]{2} )+\s*(\S+)", line)
        if m:
            ins.append((int(m.group(1), 16), m.group(2)))
    kinds = {}
    for a in addresses:
        near = " ".join(op for at, op in ins if abs(at - a) <= 96)
        kinds[a] = ("SHA-256" if "sha256" in near else "TLS ciphers (OpenSSL)" if re.search(r"aes|pclmul|vpclmul", near) else None)
    return kinds


def main():
    data = sys.argv[1]
    title = sys.argv[2] if len(sys.argv) > 2 else data
    pid = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--pid" else None
    # Unfiltered, per thread: perf report's own --pid/--tid filters dropped most samples of
    # threads born during the recording (the thread pool's), so the process is gathered here.
    report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "pid,dso,sym", "--stdio", "-g", "none",
                             "--percent-limit", "0", "-t", "\t"], capture_output=True, text=True, check=True).stdout
    threads = None
    if pid:
        script = subprocess.run(["perf", "script", "-i", data, "-F", "pid,tid"], capture_output=True, text=True, check=True).stdout
        threads = {t for p, t in (line.strip().split("/") for line in set(script.splitlines()) if "/" in line) if p == pid}
    rows = []
    for line in report.splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) < 4 or not cells[0].endswith("%"):
            continue
        tid = cells[1].split(":", 1)[0]
        if threads is not None and tid not in threads:
            continue
        rows.append((float(cells[0][:-1]), cells[2], re.sub(r"^\[[.k]\] ", "", cells[3])))
    total = sum(r[0] for r in rows)
    kinds = {name: [0.0, []] for name, _ in RULES}
    crypto = libcrypto_kinds([int(sym, 16) for _, dso, sym in rows if "libcrypto" in dso and re.fullmatch(r"0x[0-9a-f]+", sym)])
    for pct, dso, sym in rows:
        pct = pct * 100 / total if total else 0
        if "libcrypto" in dso and re.fullmatch(r"0x[0-9a-f]+", sym) and crypto.get(int(sym, 16)):
            kinds[crypto[int(sym, 16)]][0] += pct
            kinds[crypto[int(sym, 16)]][1].append((pct, f"libcrypto {sym}"))
            continue
        for name, rule in RULES:
            if rule(dso, sym):
                kinds[name][0] += pct
                kinds[name][1].append((pct, sym))
                break
    print(f"{title}: {total:.1f} % of the machine's samples (both cores, idle included)")
    print()
    print("| kind of work | share of its samples | heaviest symbols |")
    print("|---|---:|---|")
    for name, (pct, syms) in sorted(kinds.items(), key=lambda k: -k[1][0]):
        if pct < 0.5:
            continue
        merged = {}
        for p, sname in syms:
            merged[sname] = merged.get(sname, 0) + p
        top = ", ".join(f"`{short(sname)}` {p:.1f}" for sname, p in sorted(merged.items(), key=lambda x: -x[1])[:3])
        print(f"| {name} | {pct:.1f} % | {top} |")
    print()


def short(sym):
    """The readable tail of an AOT symbol (S_P_CoreLib_System_X__Method -> X__Method)."""
    sym = re.sub(r"^(S_P_CoreLib_|Cradle_[A-Za-z]+_Cradle_|ZstdSharp_Port_ZstdSharp_|Google_Protobuf_Google_Protobuf_)", "", sym)
    return sym if len(sym) <= 70 else sym[:67] + "..."


if __name__ == "__main__":
    main()
