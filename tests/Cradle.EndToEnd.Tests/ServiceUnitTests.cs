using System.Diagnostics;

namespace Cradle.EndToEnd.Tests;

/// <summary>A test that needs systemd-analyze; skipped where there is none.</summary>
public sealed class SystemdFactAttribute : FactAttribute
{
    public const string Analyzer = "/usr/bin/systemd-analyze";

    public SystemdFactAttribute()
    {
        if (!File.Exists(Analyzer))
        {
            Skip = $"{Analyzer} is not installed here";
        }
    }
}

/// <summary><c>cradle host install-service</c> and <c>cradle device install-service</c>: units systemd accepts, running this executable.</summary>
public sealed class ServiceUnitTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [SystemdFact]
    public async Task The_host_unit_runs_host_run_on_its_folder_and_systemd_verifies_it()
    {
        // A folder name systemd would misread unquoted: a space, a % specifier, a $ variable.
        var data = Path.Combine(_folder.Path, "host data 100% $HOME");
        var unit = Path.Combine(_folder.Path, "units", "cradle-host.service");

        var result = await CradleProcess.RunAsync("host", "install-service", "--data", data, "--unit-path", unit, "--user", ServiceUser);

        Assert.True(result.ExitCode == 0, result.ToString());
        var text = File.ReadAllText(unit);
        Assert.Contains($"ExecStart={Executable()} host run --data \"{data.Replace("%", "%%").Replace("$", "$$")}\" --log-file logs/cradle.log\n", text);
        Assert.Contains("WantedBy=multi-user.target", text);
        Assert.Contains($"User={ServiceUser}\n", text);
        await AssertVerifiesAsync(unit);
    }

    /// <summary>An unprivileged system user every Debian machine has (systemd warns about units run as nobody).</summary>
    private const string ServiceUser = "daemon";

    [SystemdFact]
    public async Task The_host_unit_never_runs_as_root_by_default_a_user_systemd_makes_with_its_own_state_folder()
    {
        var unit = Path.Combine(_folder.Path, "units", "cradle-host.service");
        var result = await CradleProcess.RunAsync("host", "install-service", "--unit-path", unit);

        Assert.True(result.ExitCode == 0, result.ToString());
        var text = File.ReadAllText(unit);
        Assert.Contains("host run --data /var/lib/cradle --log-file logs/cradle.log\n", text);
        Assert.Contains("DynamicUser=yes\n", text);
        Assert.Contains("StateDirectory=cradle\n", text);
        Assert.Contains("ProtectSystem=strict\n", text);
        Assert.Contains("NoNewPrivileges=yes\n", text);
        Assert.Contains("UMask=0077\n", text);
        Assert.DoesNotContain("User=", text.Replace("DynamicUser=", "", StringComparison.Ordinal), StringComparison.Ordinal);
        await AssertVerifiesAsync(unit);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task The_host_unit_refuses_root_a_user_who_does_not_own_the_folder_and_warns_about_temporary_and_build_paths()
    {
        var data = Path.Combine(_folder.Path, "owned-by-root");
        Directory.CreateDirectory(data);

        var root = await CradleProcess.RunAsync("host", "install-service", "--data", data, "--user", "root", "--print");
        Assert.True(root.ExitCode == 2, root.ToString());
        Assert.Contains("the host never runs as root", root.Stderr, StringComparison.Ordinal);

        var stranger = await CradleProcess.RunAsync("host", "install-service", "--data", data, "--user", ServiceUser, "--print");
        Assert.True(stranger.ExitCode == 2, stranger.ToString());
        Assert.Contains($"chown -R {ServiceUser}: {data}", stranger.Stderr, StringComparison.Ordinal);

        var elsewhere = await CradleProcess.RunAsync("host", "install-service", "--data", data, "--print");
        Assert.True(elsewhere.ExitCode == 2, elsewhere.ToString());
        Assert.Contains("give --user USER", elsewhere.Stderr, StringComparison.Ordinal);

        var missing = await CradleProcess.RunAsync("host", "install-service", "--data", data, "--user", "no-such-user-19", "--print");
        Assert.True(missing.ExitCode == 2, missing.ToString());

        File.SetUnixFileMode(data, (UnixFileMode)Convert.ToInt32("700", 8));
        using (var chown = Process.Start("chown", [ServiceUser, data])!)
        {
            await chown.WaitForExitAsync();
        }

        var owned = await CradleProcess.RunAsync("host", "install-service", "--data", data, "--user", ServiceUser, "--print");
        Assert.True(owned.ExitCode == 0, owned.ToString());
        Assert.Contains($"User={ServiceUser}\n", owned.Stdout, StringComparison.Ordinal);
        Assert.Contains($"ReadWritePaths={data}\n", owned.Stdout, StringComparison.Ordinal);
        Assert.Contains("is in a temporary folder", owned.Stderr, StringComparison.Ordinal);
    }

    [SystemdFact]
    public async Task The_device_unit_runs_the_agent_on_the_usb_cable_and_systemd_verifies_it()
    {
        var device = new TestDevice(_folder.Path, "svc");
        Assert.Equal(0, (await device.InitAsync("MX7-SVC")).ExitCode);
        var unit = Path.Combine(_folder.Path, "units", "cradle-device.service");

        var result = await device.RunAsync("install-service", "--usb", "usb0", "--unit-path", unit, "--user", "root");

        Assert.True(result.ExitCode == 0, result.ToString());
        var text = File.ReadAllText(unit);
        Assert.Contains($"ExecStart={Executable()} device connect --state {Path.GetFullPath(device.State)} --log-file logs/cradle.log --usb usb0\n", text);
        Assert.Contains("User=root\n", text);
        Assert.Contains("Restart=always\n", text);
        await AssertVerifiesAsync(unit);
    }

    [Fact]
    public async Task Print_shows_the_unit_and_writes_nothing()
    {
        var unit = Path.Combine(_folder.Path, "cradle-device.service");

        var result = await CradleProcess.RunAsync("device", "install-service", "--state", Path.Combine(_folder.Path, "state"), "--serial", "/dev/ttyS1", "--print", "--unit-path", unit);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("[Service]", result.Stdout);
        Assert.Contains("--serial /dev/ttyS1", result.Stdout);
        // Bad settings (2), a refused partnership (3) and a damaged store (5) do not heal by restarting.
        Assert.Contains("RestartPreventExitStatus=2 3 5\n", result.Stdout);
        Assert.False(File.Exists(unit));
    }

    [Fact]
    public async Task A_device_unit_without_a_link_is_refused_as_bad_usage()
    {
        var result = await CradleProcess.RunAsync("device", "install-service", "--state", Path.Combine(_folder.Path, "state"), "--print");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("give a link to the host", result.Stderr);
    }

    [SystemdFact]
    public async Task Verify_fails_a_broken_unit()
    {
        // The check the tests above rely on: a unit whose program does not exist does not pass.
        var unit = Path.Combine(_folder.Path, "broken.service");
        File.WriteAllText(unit, "[Service]\nExecStart=/nonexistent/cradle host run\n");

        var (code, output) = await VerifyAsync(unit);

        Assert.NotEqual(0, code);
        Assert.Contains("/nonexistent/cradle", output);
    }

    /// <summary>The executable as the running process sees itself: an installed .NET tool's command is a symbolic link into the tool store.</summary>
    private static string Executable()
    {
        var path = Path.GetFullPath(CradleProcess.Executable);
        return new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
    }

    private static async Task AssertVerifiesAsync(string unit)
    {
        var (code, output) = await VerifyAsync(unit);
        Assert.True(code == 0, $"systemd-analyze verify exited {code}:\n{output}");

        // verify also reports on other units on this machine; nothing may be about this one.
        Assert.DoesNotContain(Path.GetFileName(unit), output);
    }

    private static async Task<(int Code, string Output)> VerifyAsync(string unit)
    {
        var info = new ProcessStartInfo(SystemdFactAttribute.Analyzer) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("verify");
        info.ArgumentList.Add(unit);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
