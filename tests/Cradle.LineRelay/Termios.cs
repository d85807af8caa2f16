using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Cradle.LineRelay;

/// <summary>
/// glibc's <c>struct termios</c> on Linux (60 bytes). The relay never touches the flags itself:
/// cfmakeraw, cfsetspeed and cfget*speed do, so only the layout has to be right.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Termios
{
    public uint InputModes;
    public uint OutputModes;
    public uint ControlModes;
    public uint LocalModes;
    public byte LineDiscipline;
    public ControlCharacters Characters;
    public uint InputSpeed;
    public uint OutputSpeed;

    [InlineArray(32)]
    internal struct ControlCharacters
    {
        private byte _first;
    }
}
