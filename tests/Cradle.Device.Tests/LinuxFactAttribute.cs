namespace Cradle.Device.Tests;

/// <summary>A fact about Linux file systems (inodes, FIFOs, any byte in a name): skipped, and said so, elsewhere.</summary>
internal sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "Linux only";
        }
    }
}
