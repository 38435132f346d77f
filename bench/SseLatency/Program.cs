// Load generator for the progress-gateway. One mode per run; each prints one JSON object (the result) on stdout
// and progress notes on stderr. bench/run.sh drives it; see docs/performance.md.
//
//   sse     N SSE clients on per-job streams, ProgressReported published at R/s: scheduled send → receive latency,
//           gateway CPU per delivered update, memory (Pss) under traffic
//   poll    N clients polling GET /jobs/{id} once a second, same publishing: publish → first poll that shows it
//   ingest  publish COUNT ProgressReported as fast as possible: time until all are rows in progress_events
//   copy    limit for ingest: the rows the gateway stored, written again by one binary COPY into a scratch table
//   consume the broker alone: publish COUNT as ingest does, consumed by batches that acknowledge without storing
// The gateway is called with the API key in VIDLINE_API_KEY, of the tenant --tenant names (default bench): the jobs
// it creates belong to that tenant, so its streams show them.
using System.Text.Json;
using System.Text.Json.Serialization;
using Vidline.Bench;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: SseLatency sse|poll|ingest|copy|consume [--option value]...");
    return 2;
}

var options = Options.Parse(args.Skip(1));
object result = args[0] switch
{
    "sse" => await SseRun.RunAsync(options),
    "poll" => await PollRun.RunAsync(options),
    "ingest" => await IngestRun.RunAsync(options),
    "copy" => await IngestRun.CopyLimitAsync(options),
    "consume" => await IngestRun.ConsumeOnlyAsync(options),
    _ => throw new ArgumentException($"unknown mode '{args[0]}'"),
};
Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals }));
return 0;
