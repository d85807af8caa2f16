using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Cradle.ActiveSync.Emulator;

namespace Cradle.ActiveSync.Tests;

/// <summary>The emulator as its own process inside the device's network namespace, driven over stdin/stdout.</summary>
internal sealed class EmulatorProcess : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly Process _process;
    private readonly SemaphoreSlim _commands = new(1, 1);

    private EmulatorProcess(Process process) => _process = process;

    private static string Executable =>
        typeof(EmulatorProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "EmulatorExecutable").Value!;

    public static async Task<EmulatorProcess> StartAsync(string networkNamespace, EmulatorOptions options, string configFile)
    {
        await File.WriteAllTextAsync(configFile, JsonSerializer.Serialize(options, EmulatorJson.Default.EmulatorOptions));
        var start = new ProcessStartInfo("ip", ["netns", "exec", networkNamespace, Executable, "--config", configFile])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        var ready = await process.StandardOutput.ReadLineAsync().WaitAsync(Patience);
        if (ready is null || !ready.Contains("\"ready\":true", StringComparison.Ordinal))
        {
            var error = await process.StandardError.ReadToEndAsync();
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"the emulator did not start: {ready} {error}");
        }

        return new EmulatorProcess(process);
    }

    public async Task<string> SendAsync(string command)
    {
        await _commands.WaitAsync();
        try
        {
            await _process.StandardInput.WriteLineAsync(command);
            await _process.StandardInput.FlushAsync();
            return await _process.StandardOutput.ReadLineAsync().WaitAsync(Patience) ?? throw new InvalidOperationException("the emulator stopped");
        }
        finally
        {
            _commands.Release();
        }
    }

    public async Task<IReadOnlyDictionary<string, long>> CountersAsync() =>
        JsonSerializer.Deserialize(await SendAsync("counters"), EmulatorJson.Default.DictionaryStringInt64)!;

    public async Task<long> CounterAsync(string name) => (await CountersAsync()).GetValueOrDefault(name);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await _process.StandardInput.WriteLineAsync("quit");
                _process.StandardInput.Close();
                await _process.WaitForExitAsync().WaitAsync(Patience);
            }
        }
        catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
        _commands.Dispose();
    }
}
