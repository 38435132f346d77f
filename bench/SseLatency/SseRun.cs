using System.Diagnostics;
using System.Net;

namespace Vidline.Bench;

/// <summary>
/// N clients, each on one job's stream (<c>/jobs/{id}/stream</c>, client i on job i mod J, so every event reaches
/// N/J clients), while ProgressReported is published at R per second. Latency is publish → the client has read the
/// event's data line. With <c>--streams URL</c> the clients connect there (the edge in front of the gateway) instead of
/// to the gateway itself; <c>--edge-pid</c> then adds the edge's memory (master and workers) to the result.
/// </summary>
public static class SseRun
{
    public static async Task<object> RunAsync(Options options)
    {
        var clients = options.Int("clients", 1000);
        var jobCount = options.Int("jobs", Math.Max(1, clients / 10));
        var rate = options.Number("rate", 100);
        var seconds = options.Number("seconds", 20);
        var gateway = new Gateway(options);
        var edge = new ProcessTree(options.Int("edge-pid", 0));
        await using var publisher = await Publisher.StartAsync(options);

        Log.Note($"sse: creating {jobCount} jobs");
        var jobs = await gateway.CreateJobsAsync(publisher, jobCount);
        GC.Collect();
        await Task.Delay(2000);
        var rssBefore = gateway.RssKb();
        var edgeRssBefore = edge.RssKb();

        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            AutomaticDecompression = DecompressionMethods.None,
        };
        var streams = new Uri(options.Text("streams", gateway.Http.BaseAddress!.ToString()));
        using var http = gateway.NewClient(handler, Timeout.InfiniteTimeSpan, streams);
        using var stop = new CancellationTokenSource();
        // Only events published from here on count (the replay on connect carries the seed events).
        var measureFrom = Stopwatch.GetTimestamp();
        var latencies = new Latencies((int)Math.Min(50_000_000, rate * seconds * clients / jobCount * 1.2 + 1000));
        var connected = 0;
        var failed = 0;
        var endedEarly = 0;
        var refusals = new SortedDictionary<int, int>();
        // Each stream opening costs the gateway two queries; connecting faster only makes its pool open more PostgreSQL
        // connections, and max_connections (100) is shared with everything else on the machine.
        using var connectGate = new SemaphoreSlim(options.Int("connect-concurrency", 16));

        Log.Note($"sse: connecting {clients} clients");
        var connectClock = Stopwatch.StartNew();
        var readers = Enumerable.Range(0, clients).Select(i => Task.Run(async () =>
        {
            var job = jobs[i % jobs.Length];
            HttpResponseMessage response;
            await connectGate.WaitAsync();
            try
            {
                response = await http.GetAsync($"/jobs/{job}/stream", HttpCompletionOption.ResponseHeadersRead, stop.Token);
                if (!response.IsSuccessStatusCode)
                {
                    // An answer, not a stream (the edge's 429 or 502, the gateway's 503): counted as failed with its status.
                    lock (refusals) refusals[(int)response.StatusCode] = refusals.GetValueOrDefault((int)response.StatusCode) + 1;
                    response.Dispose();
                    Interlocked.Increment(ref failed);
                    return;
                }
                Interlocked.Increment(ref connected);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                if (Interlocked.Increment(ref failed) <= 3) Log.Note($"sse: connect failed: {e.Message}");
                return;
            }
            finally { connectGate.Release(); }

            using (response)
            {
                try
                {
                    await ReadAsync(response, measureFrom, latencies, stop.Token);
                    if (!stop.IsCancellationRequested) Interlocked.Increment(ref endedEarly);
                }
                catch (Exception) when (stop.IsCancellationRequested) { }
                catch (Exception e)
                {
                    if (Interlocked.Increment(ref endedEarly) <= 3) Log.Note($"sse: stream broke: {e.Message}");
                }
            }
        })).ToList();

        var connectDeadline = TimeSpan.FromSeconds(options.Number("connect-timeout", 120));
        while (Volatile.Read(ref connected) + Volatile.Read(ref failed) < clients && connectClock.Elapsed < connectDeadline)
            await Task.Delay(100);
        var connectSeconds = connectClock.Elapsed.TotalSeconds;
        Log.Note($"sse: {connected} connected, {failed} failed in {connectSeconds:0.0} s");
        await Task.Delay(2000);
        var rssAfter = gateway.RssKb();
        var edgeRssAfter = edge.RssKb();

        Log.Note($"sse: publishing {rate}/s for {seconds} s");
        var cpuBefore = gateway.CpuSeconds();
        var wall = Stopwatch.StartNew();
        // Memory under traffic, halfway through the publishing: what each open stream costs while it is in use.
        var underTraffic = Task.Delay(TimeSpan.FromSeconds(seconds / 2)).ContinueWith(_ => (gateway.PssKb(), edge.PssKb()));
        var perJob = await publisher.PublishAtRateAsync(jobs, rate, TimeSpan.FromSeconds(seconds));
        var (pssTraffic, edgePssTraffic) = await underTraffic;
        var published = perJob.Sum();
        // Viewers per job, to know how many deliveries to expect.
        var viewers = new long[jobs.Length];
        for (var i = 0; i < clients; i++) viewers[i % jobs.Length]++;
        var expected = perJob.Select((n, j) => n * viewers[j]).Sum() * connected / clients;
        var drainDeadline = Stopwatch.StartNew();
        while (latencies.Count < expected && drainDeadline.Elapsed < TimeSpan.FromSeconds(options.Number("drain", 10)))
            await Task.Delay(100);
        var cpuSeconds = gateway.CpuSeconds() - cpuBefore;
        var cpu = cpuSeconds / wall.Elapsed.TotalSeconds;
        var rssEnd = gateway.RssKb();
        var edgeRssEnd = edge.RssKb();

        stop.Cancel();
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { });

        return new
        {
            mode = "sse",
            streams = streams.ToString(),
            clients,
            jobs = jobCount,
            rate,
            seconds,
            connected,
            connect_failed = failed,
            refused_by_status = refusals.ToDictionary(r => r.Key.ToString(), r => r.Value),
            ended_early = endedEarly,
            connect_seconds = Math.Round(connectSeconds, 2),
            published,
            expected_deliveries = expected,
            latency = latencies.Summary(),
            delivered_ratio = expected == 0 ? 0 : Math.Round((double)latencies.Count / expected, 4),
            gateway_rss_kb_before = rssBefore,
            gateway_rss_kb_connected = rssAfter,
            gateway_rss_kb_end = rssEnd,
            kb_per_connection = connected == 0 ? 0 : Math.Round((rssAfter - rssBefore) / (double)connected, 1),
            gateway_cpu_cores = Math.Round(cpu, 2),
            gateway_cpu_seconds = Math.Round(cpuSeconds, 2),
            updates_delivered = latencies.Count,
            gateway_cpu_ms_per_update = latencies.Count == 0 ? double.NaN : Math.Round(cpuSeconds * 1000 / latencies.Count, 4),
            gateway_pss_kb_traffic = pssTraffic,
            edge_pss_kb_traffic = edgePssTraffic,
            edge_processes = edge.Count(),
            edge_rss_kb_before = edgeRssBefore,
            edge_rss_kb_connected = edgeRssAfter,
            edge_rss_kb_end = edgeRssEnd,
            edge_kb_per_connection = connected == 0 ? 0 : Math.Round((edgeRssAfter - edgeRssBefore) / (double)connected, 1),
        };
    }

    /// <summary>Reads SSE frames; for every <c>progress</c> event sent by this bench run, records its latency.</summary>
    private static async Task ReadAsync(HttpResponseMessage response, long measureFrom, Latencies latencies, CancellationToken ct)
    {
        // The data is jsonb text, so keys may be reordered and a space follows each colon: "message": "bench 123".
        const string messageKey = "\"message\":";
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        var eventType = "";
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0) { eventType = ""; continue; }
            if (line.StartsWith("event: ", StringComparison.Ordinal)) { eventType = line[7..]; continue; }
            if (eventType != "progress" || !line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            var now = Stopwatch.GetTimestamp();
            var at = line.IndexOf(messageKey, StringComparison.Ordinal);
            if (at < 0) continue;
            var start = line.IndexOf('"', at + messageKey.Length) + 1;
            var end = start > 0 ? line.IndexOf('"', start) : -1;
            if (end < 0) continue;
            if (Publisher.SentAt(line.AsSpan(start, end - start)) is { } sent && sent >= measureFrom)
                latencies.Add(now - sent);
        }
    }
}
