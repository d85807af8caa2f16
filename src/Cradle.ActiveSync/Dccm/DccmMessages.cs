using System.Text;
using Cradle.ActiveSync.Wire;

namespace Cradle.ActiveSync.Dccm;

/// <summary>
/// The words of the DCCM control channel (RNDIS variant), every one a u32 little-endian unless said.
/// Sources: SynCE's dccm/odccm (<c>synce-device-rndis.c</c>) and vdccm (<c>rapihandshakeclient.cpp</c>).
/// </summary>
internal static class DccmMessages
{
    /// <summary>The device's first word on a new control connection.</summary>
    public const uint DeviceHello = 0;

    /// <summary>The host's answer to <see cref="DeviceHello"/>.</summary>
    public const uint HostHello = 3;

    /// <summary>The device's word that its info message follows (u32 length, then the body).</summary>
    public const uint DeviceInfo = 4;

    /// <summary>An optional question before the info message; the host answers 7, 8, 4, 5.</summary>
    public const uint DeviceQuery = 6;

    /// <summary>The host's keepalive (vdccm); the device answers <see cref="DevicePong"/>.</summary>
    public const uint HostPing = 1;

    public const uint DevicePong = 2;

    /// <summary>The host asks the device to show its unlock screen (Windows Mobile 6); 0 back means unlocked.</summary>
    public const uint ShowUnlockScreen = 8;

    /// <summary>The largest password this host sends: the length travels as a u16 byte count.</summary>
    public const int MaxPasswordChars = 256;

    public static byte[] HostHelloBytes() => Words(HostHello);

    /// <summary>
    /// The answer to <see cref="DeviceQuery"/>. dccm and odccm send 7, 8, 4, 5; vdccm sends 7, 8, 4, 1.
    /// We follow the two that agree (the newer code, which most WM5/WM6 users ran).
    /// </summary>
    public static byte[] DeviceQueryAnswerBytes() => Words(7, 8, 4, 5);

    /// <summary>"Open a RAPI connection and send <paramref name="requestId"/> first on it."</summary>
    public static byte[] RapiSessionRequestBytes(uint requestId) => Words(5, 4, requestId);

    public static byte[] PingBytes() => Words(HostPing);

    public static byte[] ShowUnlockScreenBytes() => Words(ShowUnlockScreen);

    /// <summary>
    /// What the host sends after the device reported itself unlocked: 0, then 0xC. SynCE's only
    /// explanation is "wiredumps showed ActiveSync sending this"; without it the device misbehaves.
    /// </summary>
    public static byte[] UnlockAcknowledgeBytes() => Words(0, 0xC);

    /// <summary>
    /// The Windows Mobile 5 password message: a u16 byte count, then the password in UTF-16LE with
    /// every byte XORed with the key's low byte. No terminating NUL (odccm and vdccm; current dccm
    /// adds one and writes the count as an 8-byte <c>gsize</c> on 64-bit, a bug). The caller zeroes
    /// the result after sending it.
    /// </summary>
    public static byte[] PasswordBytes(ReadOnlySpan<char> password, uint key)
    {
        if (password.IsEmpty || password.Length > MaxPasswordChars)
        {
            throw new ArgumentException($"a device password has 1 to {MaxPasswordChars} characters", nameof(password));
        }

        var count = Encoding.Unicode.GetByteCount(password);
        var message = new byte[2 + count];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(message, (ushort)count);
        Encoding.Unicode.GetBytes(password, message.AsSpan(2));
        var mask = (byte)(key & 0xFF);
        for (var i = 2; i < message.Length; i++)
        {
            message[i] ^= mask;
        }

        return message;
    }

    private static byte[] Words(params uint[] words)
    {
        var writer = new WireWriter(words.Length * 4);
        foreach (var word in words)
        {
            writer.U32(word);
        }

        return writer.ToArray();
    }
}
