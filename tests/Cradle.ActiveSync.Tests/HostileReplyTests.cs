using System.Text;
using Cradle.ActiveSync.Rapi;

namespace Cradle.ActiveSync.Tests;

/// <summary>Replies a hostile device could send, decoded: each is refused with a message that says what was wrong.</summary>
public sealed class HostileReplyTests
{
    private const FindAllFilesFlags NameAndSize = FindAllFilesFlags.Name | FindAllFilesFlags.SizeLow;

    [Fact]
    public void A_read_reply_with_more_bytes_than_asked_is_refused()
    {
        var reply = new Body().U32(0).U32(1).U32(200).Bytes(new byte[200]).ToArray();
        var e = Assert.Throws<ActiveSyncProtocolException>(() => RapiReplies.ReadFile(reply, RapiVersion.Rapi2, new byte[100]));
        Assert.Contains("says 200 bytes, more than the 100", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_reply_claiming_bytes_it_does_not_hold_is_refused()
    {
        var reply = new Body().U32(0).U32(1).U32(100).Bytes(new byte[10]).ToArray();
        var e = Assert.Throws<ActiveSyncProtocolException>(() => RapiReplies.ReadFile(reply, RapiVersion.Rapi2, new byte[100]));
        Assert.Contains("ends inside the file data", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_listing_that_lies_about_its_count_is_refused_before_anything_is_sized_by_it()
    {
        var reply = new Body().U32(0).U32(1).U32(0x7FFFFFFF).U32(4).U32(1).Utf16Z("a").ToArray();
        var e = Assert.Throws<ActiveSyncProtocolException>(() => RapiReplies.FindAllFiles(reply, RapiVersion.Rapi2, NameAndSize, int.MaxValue, @"\*.*"));
        Assert.Contains("says 2147483647 entries but holds", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_listing_over_the_entry_cap_is_refused()
    {
        var reply = new Body().U32(0).U32(1).U32(11).ToArray();
        var e = Assert.Throws<ActiveSyncProtocolException>(() => RapiReplies.FindAllFiles(reply, RapiVersion.Rapi2, NameAndSize, 10, @"\*.*"));
        Assert.Contains("more than the 10", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData(@"\Windows")]
    [InlineData(@"a\..\..\b")]
    [InlineData("a/b")]
    [InlineData("C:evil")]
    [InlineData("a*b")]
    [InlineData("tab\there")]
    [InlineData("")]
    public void A_listed_name_that_no_file_can_have_is_refused(string name)
    {
        var reply = new Body().U32(0).U32(1).U32(1).U32((uint)((name.Length + 1) * 2)).U32(1).Utf16Z(name).ToArray();
        var e = Assert.Throws<ActiveSyncProtocolException>(() => RapiReplies.FindAllFiles(reply, RapiVersion.Rapi2, NameAndSize, 10, @"\My Documents\*.*"));
        Assert.Contains("entry 0 of the listing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_with_a_NUL_inside_is_refused()
    {
        var reply = new Body().U32(0).U32(1).U32(1).U32(10).U32(1).Utf16Z("a\0b.").ToArray();
        var e = Assert.Throws<ActiveSyncProtocolException>(() => RapiReplies.FindAllFiles(reply, RapiVersion.Rapi2, NameAndSize, 10, "p"));
        Assert.Contains("NUL", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0xFFFFFFFEu, "more than the 522")]
    [InlineData(7u, "odd count")]
    public void A_name_length_over_its_cap_or_odd_is_refused(uint length, string expected)
    {
        var reply = new Body().U32(0).U32(1).U32(1).U32(length).U32(1).Bytes(new byte[600]).ToArray();
        var e = Assert.Throws<ActiveSyncProtocolException>(() => RapiReplies.FindAllFiles(reply, RapiVersion.Rapi2, NameAndSize, 10, "p"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_registry_value_larger_than_the_buffer_asked_for_is_refused()
    {
        var reply = new Body().U32(0).U32(0).U32(1).U32(5000).Bytes(new byte[5000]).ToArray();
        var e = Assert.Throws<ActiveSyncProtocolException>(() => RapiReplies.RegQueryValueEx(reply, RapiVersion.Rapi2, "PName", 130));
        Assert.Contains("more than the 130", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_write_reply_claiming_more_than_was_sent_is_refused()
    {
        var reply = new Body().U32(0).U32(1).U32(11).ToArray();
        Assert.Throws<ActiveSyncProtocolException>(() => RapiReplies.WriteFile(reply, RapiVersion.Rapi2, 10));
    }

    [Fact]
    public void A_rapi1_failure_flag_carries_its_HRESULT_as_a_call_error()
    {
        var reply = new Body().U32(1).U32(0x80070005).ToArray();
        var e = Assert.Throws<RapiCallException>(() => RapiReplies.Bool(reply, RapiVersion.Rapi1, RapiCall.DeleteFile, @"\a"));
        Assert.Equal(0x80070005u, e.Win32Error);
        Assert.Contains("HRESULT 0x80070005", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_path_from_the_device_with_control_characters_is_shown_escaped()
    {
        var e = new RapiCallException("CeCreateFile", 2, "\u001b[31mred\u0007");
        Assert.DoesNotContain('\u001b', e.Message);
        Assert.Contains("\\u001b[31mred\\u0007", e.Message, StringComparison.Ordinal);
    }

    private sealed class Body
    {
        private readonly MemoryStream _bytes = new();

        public Body U32(uint value)
        {
            _bytes.Write(BitConverter.GetBytes(value));
            return this;
        }

        public Body Bytes(byte[] bytes)
        {
            _bytes.Write(bytes);
            return this;
        }

        public Body Utf16Z(string text) => Bytes(Encoding.Unicode.GetBytes(text + "\0"));

        public byte[] ToArray() => _bytes.ToArray();
    }
}
