// Load generator for the progress-gateway. One mode per run; each prints one JSON object (the result) on stdout
// and progress notes on stderr. bench/run.sh drives it; see docs/performance.md.
//
//   sse     N SSE clients on per-job streams, ProgressReported published at R/s: publish → receive latency, memory
//   poll    N clients polling GET /jobs/{id} once a second, same publishing: publish → first poll that shows it
//   ingest  publish COUNT ProgressReported as fast as possible: time until all are rows in progress_events
//   insert  baseline for ingest: single-row INSERTs from this process into a scratch table
// The gateway is called with the API key in VIDLINE_API_KEY, of the tenant --tenant names (default bench): the jobs
// it creates belong to that tenant, so its streams show them.
using System.Text.Json;
using System.Text.Json.Serialization;
using Vidline.Bench;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: SseLatency sse|poll|ingest|insert [--option value]...");
    return 2;
}

var options = Options.Parse(args.Skip(1));
object result = args[0] switch
{
    "sse" => await SseRun.RunAsync(options),
    "poll" => await PollRun.RunAsync(options),
    "ingest" => await IngestRun.RunAsync(options),
    "insert" => await IngestRun.InsertBaselineAsync(options),
    _ => throw new ArgumentException($"unknown mode '{args[0]}'"),
};
Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals }));
return 0;
