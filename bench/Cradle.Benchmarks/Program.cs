using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Cradle.Benchmarks;

// `dotnet run -c Release --project bench/Cradle.Benchmarks -- --filter '*'` runs them all;
// bench/micro.sh runs them with a short job and collects the reports.
var config = DefaultConfig.Instance.AddColumn(ThroughputColumn.Instance);
BenchmarkSwitcher.FromAssembly(typeof(ThroughputColumn).Assembly).Run(args, config);
