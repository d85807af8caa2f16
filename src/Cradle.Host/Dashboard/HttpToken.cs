using System.Security.Cryptography;
using System.Text;

namespace Cradle.Host.Dashboard;

/// <summary>
/// The dashboard's access token, needed when it listens beyond loopback: 256 random bits in
/// the host's folder (<c>http-token</c>, mode 0600), made at the first start that needs it and
/// replaced by <c>cradle host http-token --rotate</c>. A running host notices a rotation at
/// the next request. The token is never logged.
/// </summary>
public sealed class HttpToken
{
    public const string FileName = "http-token";

    private readonly string _path;
    private readonly Lock _lock = new();
    private DateTime _loadedStamp;
    private byte[] _value = [];

    private HttpToken(string path) => _path = path;

    public string Path => _path;

    public static string PathIn(string hostFolder) => System.IO.Path.Combine(hostFolder, FileName);

    /// <summary>Loads the token in the host's folder, making one when there is none (<paramref name="created"/>).</summary>
    public static HttpToken LoadOrCreate(string hostFolder, out bool created)
    {
        var path = PathIn(hostFolder);
        created = false;
        if (!File.Exists(path))
        {
            created = TryWrite(path, NewValue(), overwrite: false);
        }

        var token = new HttpToken(path);
        token.Reload();
        return token;
    }

    /// <summary>Replaces the token with a new one; the old one stops working at once.</summary>
    public static string Rotate(string hostFolder)
    {
        var value = NewValue();
        TryWrite(PathIn(hostFolder), value, overwrite: true);
        return value;
    }

    /// <summary>The token's text, for the operator (<c>cradle host http-token</c>).</summary>
    public string Reveal()
    {
        lock (_lock)
        {
            ReloadIfChanged();
            return Encoding.ASCII.GetString(_value);
        }
    }

    /// <summary>True when <paramref name="candidate"/> is the current token (compared in constant time).</summary>
    public bool Matches(string? candidate)
    {
        if (string.IsNullOrEmpty(candidate) || candidate.Length > 256)
        {
            return false;
        }

        byte[] current;
        lock (_lock)
        {
            ReloadIfChanged();
            current = _value;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(candidate), current);
    }

    private void ReloadIfChanged()
    {
        if (File.GetLastWriteTimeUtc(_path) != _loadedStamp)
        {
            Reload();
        }
    }

    private void Reload()
    {
        var text = File.ReadAllText(_path).Trim();
        if (text.Length < 32)
        {
            throw new Protocol.CradleException($"{_path} holds no usable token (fewer than 32 characters); make a new one with 'cradle host http-token --rotate'", isTransient: false);
        }

        _value = Encoding.ASCII.GetBytes(text);
        _loadedStamp = File.GetLastWriteTimeUtc(_path);
    }

    private static string NewValue() => Base64Url(RandomNumberGenerator.GetBytes(32));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Writes the token readable by its owner only, replacing the file in one rename.</summary>
    private static bool TryWrite(string path, string value, bool overwrite)
    {
        var temp = path + ".tmp";
        File.Delete(temp); // a leftover keeps its mode; a new file gets 0600
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(temp, options))
        {
            file.Write(Encoding.ASCII.GetBytes(value + "\n"));
            file.Flush(flushToDisk: true);
        }

        if (!overwrite && File.Exists(path))
        {
            File.Delete(temp);
            return false;
        }

        File.Move(temp, path, overwrite: true);
        return true;
    }
}
