using System.Diagnostics;
using System.Globalization;
using Cradle.Cli.Settings;
using Cradle.Content;
using Cradle.Host;

namespace Cradle.Cli;

/// <summary>
/// Least privilege for the host's systemd unit (issue 19): the host never runs as root. Either a
/// user systemd makes for the service (<c>DynamicUser=</c>, the folder in
/// <see cref="StateFolder"/> through <c>StateDirectory=</c>), or an unprivileged user the operator
/// names, who must own the folder. Either way the service may write its folder and nothing else
/// (<c>ProtectSystem=strict</c>), gains no privilege, and creates nothing others can read.
/// </summary>
internal static class HostServiceUnit
{
    /// <summary>The folder of a host run by a user systemd makes for it (StateDirectory=cradle).</summary>
    public const string StateFolder = "/var/lib/cradle";

    /// <summary>Whom the unit runs as, on which folder, and what the operator should know.</summary>
    public sealed record UnitPlan(string Folder, string? User, int? Uid, IReadOnlyList<string> Warnings);

    /// <summary>Checks the user and the folder (exit 2 with the fix when they do not fit); says what looks wrong.</summary>
    public static UnitPlan Plan(EffectiveSettings settings, string? user, int listenPort)
    {
        var warnings = new List<string>();
        string folder;
        int? uid = null;
        if (user is null)
        {
            folder = settings.Source("data") == EffectiveSettings.DefaultSource ? StateFolder : settings.Folder;
            if (folder != StateFolder)
            {
                throw new ArgumentException($"--data {folder}: without --user the service runs as a user systemd makes for it, whose folder is {StateFolder}; for another folder give --user USER, an unprivileged user that owns it (e.g. useradd --system --home-dir {folder} --shell /usr/sbin/nologin cradle && chown -R cradle: {folder})");
            }
        }
        else
        {
            folder = settings.Folder;
            uid = UserId(user) ?? throw new ArgumentException($"--user {user}: there is no such user here; make one (useradd --system --home-dir {folder} --shell /usr/sbin/nologin {user}) and give it the folder (chown -R {user}: {folder})");
            if (uid == 0)
            {
                throw new ArgumentException($"--user {user}: the host never runs as root (a root host writes wherever a request asks); give an unprivileged user that owns {folder}, or leave --user out for a user systemd makes");
            }

            if (Directory.Exists(folder) && OwnerOf(folder) is { } owner && owner != uid)
            {
                throw new ArgumentException($"{folder} belongs to uid {owner}, not to {user} (uid {uid}): the service could not write its own store; give it to {user} (chown -R {user}: {folder}) or name its owner with --user");
            }
        }

        foreach (var (path, what) in new[] { (folder, "the folder"), (SystemdUnit.ThisExecutable()[^1], "the program") })
        {
            if (IsUnder(path, "/tmp") || IsUnder(path, "/var/tmp"))
            {
                warnings.Add($"{what} {path} is in a temporary folder: it is gone after a reboot, and the service sees its own private /tmp (PrivateTmp)");
            }
            else if (IsUnder(path, "/home") || IsUnder(path, "/root"))
            {
                warnings.Add($"{what} {path} is in a home folder: the service sees home folders read-only (ProtectHome=read-only) but {(what == "the folder" ? "this one, which it may write" : "runs this program from it")}; a system place (/srv, /var/lib, /usr/local, /opt) suits a service better");
            }

            if (path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                warnings.Add($"{what} {path} is a build output: a rebuild or a clean changes or removes it; install the tool (dotnet tool install --global cradle) and run install-service from there");
            }
        }

        if (listenPort is > 0 and < 1024)
        {
            warnings.Add($"the host listens on port {listenPort}, below 1024: the unit grants it CAP_NET_BIND_SERVICE and nothing else");
        }

        return new UnitPlan(folder, user, uid, warnings);
    }

    /// <summary>The unit's confinement: whom it runs as, what it may write, what it may never gain.</summary>
    public static void Confine(SystemdUnit unit, UnitPlan plan, HostOptions options, string packsSetting)
    {
        if (plan.User is null)
        {
            unit.Add("Service", "DynamicUser", "yes")
                .Add("Service", "StateDirectory", "cradle")
                .Add("Service", "StateDirectoryMode", "0700");
        }
        else
        {
            unit.Add("Service", "User", plan.User)
                .Add("Service", "ReadWritePaths", SystemdUnit.Word(plan.Folder));
        }

        // A --packs folder elsewhere is the store's too (an S3 bucket needs nothing here).
        if (!StoreSettings.IsS3(packsSetting) && Path.GetFullPath(Path.Combine(plan.Folder, packsSetting)) is var packs && !IsUnder(packs, plan.Folder))
        {
            unit.Add("Service", "ReadWritePaths", SystemdUnit.Word(packs));
        }

        if (options.SerialPorts.Count > 0 || plan.User is not null)
        {
            unit.Add("Service", "SupplementaryGroups", "dialout");
        }

        // ActiveSync devices connect to TCP 990: the unit grants that one capability, nothing else.
        var bindLow = options.Listen.Port is > 0 and < 1024 || options.ActiveSyncInterfaces.Count > 0;
        unit.Add("Service", "UMask", "0077")
            .Add("Service", "NoNewPrivileges", "yes")
            .Add("Service", "CapabilityBoundingSet", bindLow ? "CAP_NET_BIND_SERVICE" : "")
            .Add("Service", "AmbientCapabilities", bindLow ? "CAP_NET_BIND_SERVICE" : "")
            .Add("Service", "ProtectSystem", "strict")
            .Add("Service", "ProtectHome", "read-only")
            .Add("Service", "PrivateTmp", "yes")
            .Add("Service", "ProtectKernelTunables", "yes")
            .Add("Service", "ProtectKernelModules", "yes")
            .Add("Service", "ProtectControlGroups", "yes")
            .Add("Service", "RestrictSUIDSGID", "yes")
            .Add("Service", "LockPersonality", "yes");
    }

    /// <summary>
    /// The named user's folder must exist before the service starts (ProtectSystem=strict lets it
    /// write only what exists): made owner-only and given to the user, when this runs as root.
    /// </summary>
    public static void PrepareFolder(UnitPlan plan)
    {
        if (plan.User is null || Directory.Exists(plan.Folder) || Environment.UserName != "root")
        {
            return;
        }

        Content.PrivateFiles.CreateFolder(plan.Folder);
        if (Run("chown", plan.User + ":", plan.Folder) is not (0, _))
        {
            throw new ArgumentException($"made {plan.Folder} but could not give it to {plan.User}: run 'chown -R {plan.User}: {plan.Folder}'");
        }
    }

    private static int? UserId(string user) =>
        Run("id", "-u", "--", user) is (0, var output) && int.TryParse(output.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ? uid : null;

    private static int? OwnerOf(string path) =>
        Run("stat", "-c", "%u", "--", path) is (0, var output) && int.TryParse(output.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ? uid : null;

    private static (int Code, string Output) Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }

    private static bool IsUnder(string path, string folder) =>
        Path.GetFullPath(path).StartsWith(Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.GetFullPath(path) == folder;
}
