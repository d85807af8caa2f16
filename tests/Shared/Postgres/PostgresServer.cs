using System.Diagnostics;

namespace Cradle.Tests;

/// <summary>
/// One throw-away PostgreSQL cluster per test process, started by <c>tests/postgres.sh</c> on a
/// free loopback port the first time a test asks for a database, and stopped (its folder deleted)
/// when the process exits. Every test gets a fresh database of its own.
/// </summary>
public static class PostgresServer
{
    private static readonly Lazy<Cluster> Instance = new(Cluster.Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The cluster's port on 127.0.0.1.</summary>
    public static int Port => Instance.Value.Port;

    /// <summary>The server's bin folder (psql, pg_ctl).</summary>
    public static string BinFolder => Instance.Value.Bin;

    /// <summary>The database the store and registry tests share, each test in a schema of its own.</summary>
    public const string TestDatabase = "cradle_tests";

    /// <summary>
    /// A fresh, empty schema with a random name in <see cref="TestDatabase"/>; returns a connection
    /// string whose search path is that schema, so the catalog's unqualified tables land there.
    /// (A schema takes milliseconds; CREATE DATABASE takes about 0.3 s on the CI machine.)
    /// </summary>
    public static string NewSchema()
    {
        var cluster = Instance.Value;
        var name = $"s_{Guid.NewGuid():N}";
        Psql(cluster, TestDatabase, $"CREATE SCHEMA {name}");
        return ConnectionString(TestDatabase) + $";Search Path={name}";
    }

    /// <summary>The connection string of a database of the cluster (a password, if given, is sent but not checked: trust).</summary>
    public static string ConnectionString(string database, string? password = null) =>
        $"Host=127.0.0.1;Port={Port};Database={database};Username=cradle" + (password is null ? "" : $";Password={password}");

    /// <summary>Runs SQL in a database with psql; returns its unaligned output.</summary>
    public static string Sql(string database, string sql) => Psql(Instance.Value, database, sql);

    private static string Psql(Cluster cluster, string database, string sql)
    {
        var (code, output) = Run(Path.Combine(cluster.Bin, "psql"), "-h", "127.0.0.1", "-p", cluster.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-U", "cradle", "-d", database, "-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t", "-c", sql);
        return code == 0 ? output.Trim() : throw new InvalidOperationException($"psql '{sql}' failed ({code}): {output}");
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // The server stops itself when this process is gone, even killed (tests/scripts/watch-owner.sh).
        start.Environment["CRADLE_TEST_OWNER_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.GetAwaiter().GetResult());
    }

    private sealed class Cluster
    {
        private Cluster(string script, string folder, int port, string bin)
        {
            Script = script;
            Folder = folder;
            Port = port;
            Bin = bin;
        }

        public string Script { get; }

        public string Folder { get; }

        public int Port { get; }

        public string Bin { get; }

        public static Cluster Start()
        {
            var script = FindScript();
            // Under /tmp (not a private temp folder): the cluster runs as another user, who must reach it.
            var folder = Path.Combine(Path.GetTempPath(), $"cradle-pg-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
            var (code, output) = Run(script, "start", folder);
            if (code != 0 || !int.TryParse(output.Trim().Split('\n')[^1], System.Globalization.CultureInfo.InvariantCulture, out var port))
            {
                throw new InvalidOperationException($"tests/postgres.sh start failed ({code}): {output}");
            }

            var (_, bin) = Run(script, "bindir");
            var cluster = new Cluster(script, folder, port, bin.Trim());
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Run(script, "stop", folder);
            Psql(cluster, "postgres", $"CREATE DATABASE {TestDatabase}");
            return cluster;
        }

        private static string FindScript()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "postgres.sh");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new InvalidOperationException($"tests/postgres.sh not found above {AppContext.BaseDirectory}");
        }
    }
}
