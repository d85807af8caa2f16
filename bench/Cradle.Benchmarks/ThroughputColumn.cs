using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Cradle.Benchmarks;

/// <summary>How many bytes one operation of the benchmark processes, for the MB/s column.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BytesPerOperationAttribute(long bytes) : Attribute
{
    public long Bytes { get; } = bytes;
}

/// <summary>
/// MB/s (10^6 bytes per second, as in docs/BENCHMARKS.md's physical limits) from the mean and
/// the method's <see cref="BytesPerOperationAttribute"/>, so the tables read against those limits.
/// </summary>
public sealed class ThroughputColumn : IColumn
{
    public static ThroughputColumn Instance { get; } = new();

    public string Id => nameof(ThroughputColumn);

    public string ColumnName => "MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Statistics;

    public int PriorityInCategory => 10;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Throughput: bytes processed per operation (times Streams, where given) / Mean, in 10^6 bytes per second";

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => BytesOf(c) is not null);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var bytes = BytesOf(benchmarkCase);
        var meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (bytes is null || meanNs is not > 0)
        {
            return "-";
        }

        return (bytes.Value / meanNs.Value * 1e3).ToString("N0", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The method's bytes per operation, times the case's <c>Streams</c> parameter when it has
    /// one (a benchmark that runs that many copies of the work at once, e.g. concurrent restores).
    /// </summary>
    private static long? BytesOf(BenchmarkCase benchmarkCase)
    {
        var bytes = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<BytesPerOperationAttribute>()?.Bytes;
        var streams = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Streams")?.Value;
        return bytes is null ? null : bytes * (streams is int n ? n : 1);
    }
}
