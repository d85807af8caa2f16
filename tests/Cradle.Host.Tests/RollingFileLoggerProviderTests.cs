using Cradle.Tests;
using Microsoft.Extensions.Logging;

namespace Cradle.Host.Tests;

public sealed class RollingFileLoggerProviderTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Lines_carry_level_event_id_category_and_message()
    {
        var path = Path.Combine(_folder.Path, "logs", "cradle.log");
        using (var provider = new RollingFileLoggerProvider(path, 1024 * 1024, 3))
        {
            var logger = provider.CreateLogger("Cradle.Host.HostService");
            logger.Log(LogLevel.Warning, new EventId(1006), "session ended: cable out", null, (s, _) => s);
            logger.Log(LogLevel.Error, new EventId(1008), "crashed", new InvalidOperationException("boom\nsecond line"), (s, _) => s);
        }

        var lines = File.ReadAllLines(path);
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn \[1006\] Cradle\.Host\.HostService: session ended: cable out$", lines[0]);
        Assert.Contains("fail [1008]", lines[1]);
        Assert.Contains("boom | second line", lines[1]);
    }

    [Fact]
    public void A_full_file_rolls_over_and_only_the_newest_files_are_kept()
    {
        var path = Path.Combine(_folder.Path, "cradle.log");
        using (var provider = new RollingFileLoggerProvider(path, 4096, filesKept: 3))
        {
            var logger = provider.CreateLogger("test");
            for (var i = 0; i < 200; i++)
            {
                logger.Log(LogLevel.Information, new EventId(1), $"line {i:D4} {new string('x', 60)}", null, (s, _) => s);
            }
        }

        var files = Directory.GetFiles(_folder.Path).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["cradle.log", "cradle.log.1", "cradle.log.2"], files);
        Assert.All(files, f => Assert.InRange(new FileInfo(Path.Combine(_folder.Path, f!)).Length, 1, 4096));

        // The newest line is in the current file, the lines before it in .1, and so on, with no gap.
        var kept = File.ReadAllLines(path + ".2").Concat(File.ReadAllLines(path + ".1")).Concat(File.ReadAllLines(path))
            .Select(l => int.Parse(l.Split("line ")[1][..4], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(199, kept[^1]);
        Assert.Equal(Enumerable.Range(kept[0], kept.Count), kept);
        Assert.True(kept[0] > 0, "the oldest lines were dropped with the oldest file");
    }

    [Fact]
    public void A_second_start_appends_to_the_current_file()
    {
        var path = Path.Combine(_folder.Path, "cradle.log");
        for (var run = 0; run < 2; run++)
        {
            using var provider = new RollingFileLoggerProvider(path, 1024 * 1024, 2);
            provider.CreateLogger("test").Log(LogLevel.Information, new EventId(1), $"run {run}", null, (s, _) => s);
        }

        Assert.Equal(2, File.ReadAllLines(path).Length);
    }
}
