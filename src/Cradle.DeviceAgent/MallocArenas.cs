using System.Runtime.InteropServices;

namespace Cradle.Cli;

/// <summary>
/// The C library's allocator, set for a handheld: one malloc arena for the whole process. glibc
/// gives each thread that allocates its own arena (OpenSSL's TLS state and the zstd contexts are
/// native allocations made on thread-pool threads), and each keeps what it once held: during a
/// 560 MB first backup three or four arenas held 3–4 MiB between them, one about 2.4 MiB. The
/// agent allocates natively from a few threads at a time, rarely, so one arena costs it nothing
/// measurable (docs/BENCHMARKS.md, "The device agent on its own"). The same as MALLOC_ARENA_MAX=1,
/// which a variable set by the user still overrides.
/// </summary>
internal static class MallocArenas
{
    /// <summary>mallopt's M_ARENA_MAX (malloc.h).</summary>
    private const int ArenaMax = -8;

    public static void UseOneArena()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null)
        {
            return;
        }

        try
        {
            // Returns 0 when the C library does not take it (musl's mallopt does nothing): then nothing changes.
            _ = Mallopt(ArenaMax, 1);
        }
        catch (EntryPointNotFoundException)
        {
            // A C library without mallopt: its allocator's own arenas stay as they are.
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);
}
