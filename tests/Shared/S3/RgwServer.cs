using System.Diagnostics;
using Amazon.Runtime;
using Amazon.S3;

namespace Cradle.Tests;

/// <summary>
/// A real S3 server for the tests: Ceph's RADOS gateway on loopback, started by
/// <c>tests/scripts/rgw.sh</c> once per test run (the first test that needs it waits ~5 s) and
/// stopped when the test process exits. Its fixed test keys go into this process's AWS
/// environment variables, so the store and every <c>cradle</c> it starts find them the usual way.
/// </summary>
public sealed class RgwServer
{
    private static readonly Lazy<RgwServer> Shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);
    private static int _buckets;
    private readonly string _folder;

    private RgwServer(string folder, Uri endpoint)
    {
        _folder = folder;
        Endpoint = endpoint;
    }

    public static RgwServer Instance => Shared.Value;

    public Uri Endpoint { get; }

    /// <summary>A new empty bucket; its <c>--packs</c> address.</summary>
    public string CreateBucket(string label)
    {
        var name = $"{label.ToLowerInvariant()}-{Environment.ProcessId}-{Interlocked.Increment(ref _buckets)}";
        using var client = Client();
        client.PutBucketAsync(name).GetAwaiter().GetResult();
        return $"s3://{name}?endpoint={Endpoint}";
    }

    public AmazonS3Client Client() => new(new AmazonS3Config
    {
        ServiceURL = Endpoint.ToString(),
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    private static RgwServer Start()
    {
        var script = FindScript();
        var folder = Path.Combine(Path.GetTempPath(), $"cradle-rgw-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        var output = Run(script, "start", folder);
        var values = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        var server = new RgwServer(folder, new Uri(values["endpoint"]));
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", values["access_key"]);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", values["secret_key"]);
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Run(script, "stop", folder);
        return server;
    }

    private static string Run(string script, string verb, string folder)
    {
        var start = new ProcessStartInfo(script, [verb, folder]) { RedirectStandardOutput = true, RedirectStandardError = true };
        // The server stops itself when this process is gone, even killed (tests/scripts/watch-owner.sh).
        start.Environment["CRADLE_TEST_OWNER_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {script}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} {verb} failed (exit {process.ExitCode}): {stderr.Result}");
        }

        return stdout;
    }

    private static string FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "scripts", "rgw.sh");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"tests/scripts/rgw.sh not found above {AppContext.BaseDirectory}");
    }
}
