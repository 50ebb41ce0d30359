using BenchmarkDotNet.Running;

// A benchmark that failed to build or run leaves its row without a ratio: say so through the exit code.
var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
