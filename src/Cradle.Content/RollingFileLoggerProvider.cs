using System.Globalization;
using System.Text;
using Cradle.Content;
using Microsoft.Extensions.Logging;

namespace Cradle.Host;

/// <summary>
/// Writes log lines to a file and rolls it over by size: <c>cradle.log</c> is the current file,
/// <c>cradle.log.1</c> the one before, up to <c>FilesKept - 1</c> old ones. A service has no
/// terminal, and journald may not be there to keep its console.
/// </summary>
public sealed class RollingFileLoggerProvider : ILoggerProvider
{
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _filesKept;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private FileStream? _stream;

    public RollingFileLoggerProvider(string path, long maxBytes, int filesKept, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(filesKept, 1);
        _path = Path.GetFullPath(path);
        _maxBytes = maxBytes;
        _filesKept = filesKept;
        _time = time ?? TimeProvider.System;
        Content.PrivateFiles.CreateFolder(Path.GetDirectoryName(_path)!);
        _stream = Open();
    }

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    public void Dispose()
    {
        lock (_gate)
        {
            _stream?.Dispose();
            _stream = null;
        }
    }

    private FileStream Open()
    {
        // The log names devices, files and addresses: its owner's alone, like the rest of the host's folder.
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = Content.PrivateFiles.FileMode;
        }

        return new FileStream(_path, options);
    }

    private void Write(string category, LogLevel level, EventId id, string message, Exception? exception)
    {
        var line = new StringBuilder()
            .Append(_time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))
            .Append(' ').Append(Short(level))
            .Append(" [").Append(id.Id.ToString(CultureInfo.InvariantCulture)).Append("] ")
            .Append(category).Append(": ").Append(message.ReplaceLineEndings(" | "));
        if (exception is not null)
        {
            line.Append(" | ").Append(exception.ToString().ReplaceLineEndings(" | "));
        }

        var bytes = Encoding.UTF8.GetBytes(line.Append('\n').ToString());
        lock (_gate)
        {
            if (_stream is null)
            {
                return;
            }

            if (_stream.Length > 0 && _stream.Length + bytes.Length > _maxBytes)
            {
                RollOver();
            }

            _stream.Write(bytes);
            _stream.Flush();
        }
    }

    /// <summary>cradle.log.(N-2) → .(N-1), …, cradle.log → cradle.log.1; the oldest beyond N files goes.</summary>
    private void RollOver()
    {
        _stream!.Dispose();
        File.Delete($"{_path}.{_filesKept - 1}");
        for (var i = _filesKept - 2; i >= 1; i--)
        {
            if (File.Exists($"{_path}.{i}"))
            {
                File.Move($"{_path}.{i}", $"{_path}.{i + 1}", overwrite: true);
            }
        }

        if (_filesKept > 1)
        {
            File.Move(_path, $"{_path}.1", overwrite: true);
        }
        else
        {
            File.Delete(_path);
        }

        _stream = Open();
    }

    private static string Short(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        _ => "crit",
    };

    private sealed class FileLogger(RollingFileLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(category, logLevel, eventId, formatter(state, exception), exception);
            }
        }
    }
}
