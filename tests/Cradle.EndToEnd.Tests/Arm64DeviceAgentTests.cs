using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// The linux-arm64 device agent (<c>cradle-device</c>, native AOT, cross-built on x64) run under
/// qemu's user-mode emulator against the x64 host over loopback TCP: partnership, first backup,
/// unchanged re-run, restore onto the device, byte for byte. test.sh packs the arm64 tool package
/// and points CRADLE_DEVICE_ARM64 at the executable inside it; without it the test is skipped.
/// </summary>
public sealed class Arm64DeviceAgentTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Arm64AgentFact]
    public async Task The_arm64_agent_under_qemu_partners_backs_up_re_runs_unchanged_and_restores_byte_for_byte()
    {
        var agent = Arm64Agent.Command();
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var state = Path.Combine(_folder.Path, "state-arm");
        var data = Path.Combine(_folder.Path, "data-arm");
        Directory.CreateDirectory(Path.Combine(data, "forms"));

        // Small (qemu emulates every instruction): many small files, one spanning many chunks,
        // compressible text, an empty file.
        for (var i = 0; i < 40; i++)
        {
            await File.WriteAllBytesAsync(Path.Combine(data, "forms", $"form-{i:D2}.bin"), TestData.Bytes((ulong)(500 + i), 8 * 1024 + i));
        }

        await File.WriteAllBytesAsync(Path.Combine(data, "scans.dat"), TestData.Bytes(77, 6 * 1024 * 1024));
        await File.WriteAllBytesAsync(Path.Combine(data, "notes.txt"), TestData.Text(512 * 1024));
        await File.WriteAllBytesAsync(Path.Combine(data, "empty.log"), []);

        var version = await CradleProcess.RunCommandAsync(agent, "--version");
        Assert.True(version.ExitCode == 0, version.ToString());
        var init = await CradleProcess.RunCommandAsync(agent, "init", "--name", "ARM-1", "--folder", data, "--state", state);
        Assert.True(init.ExitCode == 0, init.ToString());

        var first = await CradleProcess.RunCommandAsync(agent, "connect", "--host", host.Address, "--once", "--json", "--state", state);
        Assert.True(first.ExitCode == 0, first.ToString());
        var backup = JsonDocument.Parse(first.Stdout).RootElement;
        Assert.Equal(43, backup.GetProperty("files").GetInt64());
        Assert.True(backup.GetProperty("chunksSent").GetInt64() > 40, first.Stdout);

        // The partnership is held on both sides.
        var partnerships = await CradleProcess.RunCommandAsync(agent, "partnerships", "--state", state);
        Assert.True(partnerships.ExitCode == 0, partnerships.ToString());
        Assert.Contains(host.Name, partnerships.Stdout);
        var devices = await host.RunAsync("host", "devices", "--json");
        Assert.True(devices.ExitCode == 0, devices.ToString());
        Assert.Contains("ARM-1", devices.Stdout);

        // Unchanged: nothing read, no chunk sent, the same snapshot.
        var rerun = await CradleProcess.RunCommandAsync(agent, "connect", "--host", host.Address, "--once", "--json", "--state", state);
        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        var again = JsonDocument.Parse(rerun.Stdout).RootElement;
        Assert.True(again.GetProperty("unchanged").GetBoolean(), rerun.Stdout);
        Assert.Equal(0, again.GetProperty("bytesRead").GetInt64());
        Assert.Equal(0, again.GetProperty("chunksSent").GetInt64());
        Assert.Equal(backup.GetProperty("snapshot").GetInt64(), again.GetProperty("snapshot").GetInt64());

        // Restore onto the device (an emptied data folder), as after a cold boot's loss of files.
        var original = Path.Combine(_folder.Path, "original");
        Directory.Move(data, original);
        Directory.CreateDirectory(data);
        var restore = await CradleProcess.RunCommandAsync(agent, "restore", "--host", host.Address, "--state", state);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Empty(Content.TreeComparer.Compare(original, data));
    }

    public void Dispose() => _folder.Dispose();
}

/// <summary>A test that needs the arm64 agent (CRADLE_DEVICE_ARM64) and qemu; skipped, saying why, without them.</summary>
public sealed class Arm64AgentFactAttribute : FactAttribute
{
    public Arm64AgentFactAttribute()
    {
        if (Arm64Agent.Executable is null)
        {
            Skip = $"{Arm64Agent.Variable} is not set: test.sh packs the linux-arm64 cradle-device and sets it";
        }
    }
}

/// <summary>
/// The linux-arm64 <c>cradle-device</c> and how to run it here: through qemu-aarch64-static, with
/// Debian's arm64 loader, libc and libssl (multiarch, test.sh installs libssl3:arm64) in their
/// usual places. Not with -L /usr/aarch64-linux-gnu: the cross sysroot's loader would then pair
/// with the multiarch libc of another build and hang.
/// </summary>
public static class Arm64Agent
{
    public const string Variable = "CRADLE_DEVICE_ARM64";

    private static readonly byte[] ElfMagic = [0x7F, (byte)'E', (byte)'L', (byte)'F'];

    public static string? Executable => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? path : null;

    /// <summary>
    /// The emulator's command line for the agent; fails when the file is not an arm64 executable
    /// (ELF e_machine 183, EM_AARCH64), so that an x64 build can never pass for it.
    /// </summary>
    public static string[] Command()
    {
        var path = Executable!;
        var header = new byte[20];
        using (var file = File.OpenRead(path))
        {
            file.ReadExactly(header);
        }

        Assert.True(header.AsSpan(0, 4).SequenceEqual(ElfMagic), $"{path} is not an ELF executable");
        Assert.True(BitConverter.ToUInt16(header, 18) == 183, $"{path} is not an arm64 executable (e_machine {BitConverter.ToUInt16(header, 18)})");
        return ["qemu-aarch64-static", path];
    }
}
