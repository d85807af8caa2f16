using System.Reflection;
using Cradle.Device;

namespace Cradle.Device.Tests;

/// <summary>
/// Issue 21: the device engine carries no host. Walks the assemblies <c>Cradle.Device</c> references,
/// transitively, and fails if the store, the host, or a host-only dependency (ASP.NET Core, Npgsql,
/// the S3 client, SQLite) is among them: adding a reference to Cradle.Store back to the device and
/// using it makes this fail.
/// </summary>
public sealed class NoHostDependencyTests
{
    private static readonly string[] HostOnly = ["Cradle.Store", "Cradle.Host", "Microsoft.AspNetCore", "Npgsql", "AWSSDK", "Microsoft.Data.Sqlite", "SQLitePCLRaw"];

    [Fact]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "A test reads its own build's references; it is never trimmed.")]
    public void The_device_engine_references_no_store_host_database_or_S3_assembly()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<AssemblyName>(typeof(DeviceAgent).Assembly.GetReferencedAssemblies());
        while (pending.TryDequeue(out var name))
        {
            if (name.Name is null || !seen.Add(name.Name) || name.Name.StartsWith("System", StringComparison.Ordinal) || name.Name is "mscorlib" or "netstandard")
            {
                continue;
            }

            foreach (var next in Assembly.Load(name).GetReferencedAssemblies())
            {
                pending.Enqueue(next);
            }
        }

        Assert.Contains("Cradle.Content", seen);
        var found = seen.Where(n => HostOnly.Any(h => n.StartsWith(h, StringComparison.Ordinal))).ToList();
        Assert.True(found.Count == 0, $"Cradle.Device reaches host-only assemblies: {string.Join(", ", found)}");
    }
}
