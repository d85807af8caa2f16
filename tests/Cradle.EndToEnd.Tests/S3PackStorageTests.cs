using System.Buffers.Binary;
using System.Text.Json;
using Amazon.S3.Model;
using Cradle.Tests;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// <c>cradle host run --packs s3://…</c> against a real S3 server (Ceph's RADOS gateway on
/// loopback, <see cref="RgwServer"/>): backups go to the bucket, restore and check read them
/// back from it, with the address from the flag, the environment or cradle.json.
/// </summary>
public sealed class S3PackStorageTests : IDisposable
{
    private const int PackHeaderLength = 28;
    private const int RecordHeaderLength = 41;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_host_with_packs_in_a_bucket_backs_up_restores_byte_for_byte_and_checks_the_data_it_reads_back()
    {
        var rgw = RgwServer.Instance;
        var packs = rgw.CreateBucket("e2e");
        var bucket = new Uri(packs.Replace("s3://", "http://", StringComparison.Ordinal)).Host;
        var device = new TestDevice(_folder.Path, "s3");
        var data = device.DataFolder;
        Directory.CreateDirectory(Path.Combine(data, "photos"));
        // More than one pack's worth (16 MiB), so a restore reads several packs with ranged GETs.
        File.WriteAllBytes(Path.Combine(data, "big.bin"), TestData.Bytes(11, 24_000_000));
        File.WriteAllBytes(Path.Combine(data, "notes.txt"), TestData.Text(40_000));
        File.WriteAllBytes(Path.Combine(data, "photos", "pic.jpg"), TestData.Bytes(12, 500_000));
        Assert.Equal(0, (await device.InitAsync("S3-1")).ExitCode);
        var label = Path.GetFileName(data);

        var host = await RunningHost.StartOnAsync(Path.Combine(_folder.Path, "host"), "depot", extra: ["--packs", packs]);
        try
        {
            Assert.True(await host.Process.WaitForOutputAsync("packs in s3://" + bucket, TimeSpan.FromSeconds(10)), host.Process.Stdout);
            var backup = await device.BackUpOnceAsync(host);
            Assert.True(backup.ExitCode == 0, backup.ToString());
        }
        finally
        {
            await host.DisposeAsync();
        }

        // The packs are objects in the bucket, and none is left in the host's folder.
        using var client = rgw.Client();
        var objects = (await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket })).S3Objects ?? [];
        Assert.True(objects.Count >= 2, $"{objects.Count} objects in the bucket");
        Assert.All(objects, o => Assert.EndsWith(".pack", o.Key, StringComparison.Ordinal));
        Assert.Empty(Directory.EnumerateFiles(host.Data, "*.pack", SearchOption.AllDirectories));

        // Restore, with the address in the environment.
        var target = _folder["restored"];
        var restore = await CradleProcess.RunWithAsync(new Dictionary<string, string> { ["CRADLE_HOST__PACKS"] = packs }, "host", "restore", "S3-1", "--to", target, "--data", host.Data);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        TreeAssert.Identical(data, Path.Combine(target, label));

        // Check, with the address in cradle.json: every chunk read back from the bucket.
        File.WriteAllText(Path.Combine(host.Data, "cradle.json"), $$"""{ "host": { "packs": "{{packs}}" } }""");
        var clean = await host.RunAsync("host", "check", "--read-data", "--json");
        Assert.True(clean.ExitCode == 0, clean.ToString());
        var report = JsonDocument.Parse(clean.Stdout).RootElement;
        Assert.True(report.GetProperty("ok").GetBoolean());
        Assert.Equal(objects.Count, report.GetProperty("packs").GetInt64());
        Assert.True(report.GetProperty("bytesRead").GetInt64() > 24_000_000);

        // A flipped byte in the biggest object: big.bin's first chunk (the device reads in name order).
        var biggest = objects.OrderByDescending(o => o.Size).First().Key;
        var bytes = await GetAsync(client, bucket, biggest);
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(PackHeaderLength + 1));
        bytes[PackHeaderLength + RecordHeaderLength + (stored / 2)] ^= 0x01;
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = biggest, InputStream = new MemoryStream(bytes) });

        var damaged = await host.RunAsync("host", "check", "--read-data");
        Assert.True(damaged.ExitCode == 5, "exit code 5: the store is damaged\n" + damaged);
        Assert.Contains($"PROBLEM damaged-chunk: pack {biggest}", damaged.Stdout, StringComparison.Ordinal);
        Assert.Contains($"of S3-1: 1 file: {label}/big.bin", damaged.Stdout, StringComparison.Ordinal);

        // A missing object: check names it and the bucket, never a key.
        await client.DeleteObjectAsync(bucket, biggest);
        var missing = await host.RunAsync("host", "check");
        Assert.True(missing.ExitCode == 5, missing.ToString());
        Assert.Contains($"PROBLEM missing-pack: pack {biggest} is missing from s3://{bucket}", missing.Stdout, StringComparison.Ordinal);
        foreach (var output in new[] { clean, damaged, missing, restore })
        {
            Assert.DoesNotContain(Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY")!, output.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_host_given_a_bucket_that_is_not_there_refuses_to_start_and_says_so()
    {
        var rgw = RgwServer.Instance;
        var packs = $"s3://no-such-bucket-{Guid.NewGuid():N}"[..40] + $"?endpoint={rgw.Endpoint}";
        var run = await CradleProcess.RunAsync("host", "run", "--data", _folder["host"], "--listen", "127.0.0.1:0", "--http", "off", "--packs", packs);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("no such bucket", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("listening on", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY")!, run.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_packs_address_with_an_unknown_parameter_is_refused_before_anything_starts()
    {
        var run = await CradleProcess.RunAsync("host", "run", "--data", _folder["host"], "--listen", "127.0.0.1:0", "--http", "off", "--packs", "s3://bucket?endpoint=http://127.0.0.1:1&secret=x");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("host:packs", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("is not allowed", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("AWS_SHARED_CREDENTIALS_FILE", run.Stderr, StringComparison.Ordinal);
    }

    private static async Task<byte[]> GetAsync(Amazon.S3.AmazonS3Client client, string bucket, string key)
    {
        using var response = await client.GetObjectAsync(bucket, key);
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
