namespace Cradle.Content;

/// <summary>
/// Puts a restored file's or folder's permission bits back. Only the rwx bits for owner,
/// group and others (0777): set-user-id, set-group-id and sticky bits from a snapshot are
/// dropped, so a restore run as root never creates a set-user-id file. A mode of 0 (a
/// snapshot taken where there are no Unix modes) leaves the default.
/// </summary>
public static class FileModes
{
    public const uint PermissionBits = 0x1FF;

    public static void Apply(string path, uint mode)
    {
        if (OperatingSystem.IsWindows() || mode == 0)
        {
            return;
        }

        File.SetUnixFileMode(path, (UnixFileMode)(mode & PermissionBits));
    }
}
