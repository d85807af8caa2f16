using System.CommandLine;
using System.Diagnostics;
using Cradle.Content;
using Cradle.Device;
using Cradle.Host;
using Cradle.Links;
using Spectre.Console;

namespace Cradle.Cli;

/// <summary>
/// <c>cradle demo</c>: the whole job on embedded defaults, in a folder under the current one —
/// a real host on 127.0.0.1 (a free port), a device with sample data, a partnership, a backup,
/// a change, a second backup, a restore, and a byte-for-byte check.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The demo's device trusts the demo's own host, on loopback, without asking (a lab setup).</summary>
    private static readonly DeviceOptions DemoDevice = new() { AcceptNewHost = DeviceOptions.AnyHost };

    private const string Marker = ".cradle-demo";

    public static Command Build()
    {
        var folder = new Option<string>("--folder") { Description = "Where the demo works (wiped first if it is an earlier demo's folder)", DefaultValueFactory = _ => "cradle-demo", HelpName = "DIR" };
        var command = new Command("demo", "Run a host and a device on this machine and back up, change, back up, restore and verify") { folder };
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(() => RunAsync(result.GetValue(folder)!, cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(string folder, CancellationToken cancellationToken)
    {
        var root = PrepareFolder(folder);
        var data = Path.Combine(root, "device-data");
        Console.Out.WriteLine($"demo folder: {root}");
        var sample = SampleData.Create(data);
        Console.Out.WriteLine($"sample data: {sample.Files} files, {Format.Bytes(sample.Bytes)} (logs, CSV, binary)");

        var options = new HostOptions { DataFolder = Path.Combine(root, "host"), Listen = new LinkAddress("127.0.0.1", 0), Name = "demo-host", AutoApprove = true };
        await using var host = await HostService.OpenAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false);
        host.Start();
        var address = new NetworkRoute(host.BoundAddress!);
        Console.Out.WriteLine($"host listening on {address}");

        var state = new DeviceState(Path.Combine(root, "device-state"));
        state.Initialize("MX7-DEMO", [data]);
        var first = await ProgressDisplay.DeviceAsync("first backup", o => new DeviceAgent(state, address, DemoDevice, o).RunOnceAsync(cancellationToken)).ConfigureAwait(false);
        Report("first backup", first);

        var changed = SampleData.Change(data);
        Console.Out.WriteLine($"changed the data: appended to {changed.Appended} logs, edited {changed.Edited} files, added {changed.Added}");
        var second = await ProgressDisplay.DeviceAsync("second backup", o => new DeviceAgent(state, address, DemoDevice, o).RunOnceAsync(cancellationToken)).ConfigureAwait(false);
        Report("second backup", second);
        Console.Out.WriteLine($"the second backup sent {Format.Bytes(second.WireBytesSent)} over the link ({second.WireBytesSent} bytes), {Percent(second.WireBytesSent, second.Bytes)} of the data");

        var restoreTo = Path.Combine(root, "restored");
        using (var store = host.OpenRepository())
        {
            var snapshot = store.GetSnapshot(second.SnapshotId)!;
            var clock = Stopwatch.StartNew();
            var restored = await ProgressDisplay.RestoreAsync(store, snapshot, restoreTo, overwrite: false, dryRun: false, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine($"restored snapshot {snapshot.Id}: {restored.Files} files, {Format.Bytes(restored.Bytes)} in {Format.Seconds(clock.Elapsed)}");
        }

        var differences = TreeComparer.Compare(data, Path.Combine(restoreTo, state.LoadIdentity().Folders[0].Label));
        await host.StopAsync().ConfigureAwait(false);
        if (differences.Count > 0)
        {
            foreach (var d in differences.Take(20))
            {
                Console.Error.WriteLine($"MISMATCH {d}");
            }

            Console.Error.WriteLine($"demo failed: {differences.Count} differences between the data and its restore");
            return ExitCodes.Failed;
        }

        var table = new Table().AddColumns("", "files", "data", "read", "on the link", "time");
        table.AddRow("first backup", first.Files.ToString(System.Globalization.CultureInfo.InvariantCulture), Format.Bytes(first.Bytes), Format.Bytes(first.BytesRead), Format.Bytes(first.WireBytesSent), Format.Seconds(first.Elapsed));
        table.AddRow("second backup", second.Files.ToString(System.Globalization.CultureInfo.InvariantCulture), Format.Bytes(second.Bytes), Format.Bytes(second.BytesRead), Format.Bytes(second.WireBytesSent), Format.Seconds(second.Elapsed));
        AnsiConsole.Write(table);
        Console.Out.WriteLine($"verified: every file of the restore matches the device's data byte for byte ({sample.Files + changed.Added} files, their folders and times)");
        Console.Out.WriteLine("demo OK");
        return ExitCodes.Ok;
    }

    private static string Percent(long part, long whole) => whole == 0 ? "0%" : $"{100.0 * part / whole:0.0}%";

    private static void Report(string what, BackupResult r) =>
        Console.Out.WriteLine($"{what}: snapshot {r.SnapshotId}, {r.Files} files, {Format.Bytes(r.Bytes)}; read {r.FilesRead} files ({Format.Bytes(r.BytesRead)}); {Format.Bytes(r.WireBytesSent)} on the link; {Format.Seconds(r.Elapsed)}");

    private static string PrepareFolder(string folder)
    {
        var root = Path.GetFullPath(folder);
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
        {
            if (!File.Exists(Path.Combine(root, Marker)))
            {
                throw new ArgumentException($"{root} exists and is not a demo folder; choose another with --folder");
            }

            Directory.Delete(root, recursive: true);
        }

        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, Marker), "made by cradle demo; deleted by the next run\n");
        return root;
    }
}
