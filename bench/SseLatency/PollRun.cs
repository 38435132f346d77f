using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Vidline.Bench;

/// <summary>
/// Baseline for <see cref="SseRun"/>: N clients poll <c>GET /jobs/{id}</c> once a second (staggered), with the same
/// publishing. An event's latency is publish → the first poll whose <c>latest_events</c> shows it.
/// </summary>
public static class PollRun
{
    public static async Task<object> RunAsync(Options options)
    {
        var clients = options.Int("clients", 1000);
        var jobCount = options.Int("jobs", Math.Max(1, clients / 10));
        var rate = options.Number("rate", 100);
        var seconds = options.Number("seconds", 20);
        var interval = TimeSpan.FromSeconds(options.Number("interval", 1));
        var gateway = new Gateway(options);
        await using var publisher = await Publisher.StartAsync(options);
        var jobs = await gateway.CreateJobsAsync(publisher, jobCount);

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, AutomaticDecompression = DecompressionMethods.None };
        using var http = gateway.NewClient(handler, TimeSpan.FromSeconds(30));
        using var stop = new CancellationTokenSource();
        var measureFrom = Stopwatch.GetTimestamp();
        var latencies = new Latencies((int)Math.Min(50_000_000, rate * seconds * clients / jobCount * 1.2 + 1000));
        long requests = 0, errors = 0, requestTicks = 0;

        Log.Note($"poll: {clients} pollers every {interval.TotalSeconds} s");
        var pollers = Enumerable.Range(0, clients).Select(i => Task.Run(async () =>
        {
            var job = jobs[i % jobs.Length];
            var newestSeen = measureFrom;
            try
            {
                await Task.Delay(interval * i / clients, stop.Token); // spread the pollers over the interval
                using var timer = new PeriodicTimer(interval);
                do
                {
                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        using var response = await http.GetAsync($"/jobs/{job}", stop.Token);
                        var body = await response.Content.ReadAsByteArrayAsync(stop.Token);
                        var now = Stopwatch.GetTimestamp();
                        Interlocked.Increment(ref requests);
                        Interlocked.Add(ref requestTicks, now - started);
                        if (!response.IsSuccessStatusCode) { Interlocked.Increment(ref errors); continue; }
                        var newest = newestSeen;
                        using var doc = JsonDocument.Parse(body);
                        foreach (var e in doc.RootElement.GetProperty("latest_events").EnumerateArray())
                        {
                            if (e.GetProperty("type").GetString() != "progress") continue;
                            if (Publisher.SentAt(e.GetProperty("message").GetString()) is { } sent && sent > newestSeen)
                            {
                                latencies.Add(now - sent);
                                newest = Math.Max(newest, sent);
                            }
                        }
                        newestSeen = newest;
                    }
                    catch (HttpRequestException) { Interlocked.Increment(ref errors); }
                } while (await timer.WaitForNextTickAsync(stop.Token));
            }
            catch (OperationCanceledException) { }
        })).ToList();

        await Task.Delay(2000);
        var cpuBefore = gateway.CpuSeconds();
        var wall = Stopwatch.StartNew();
        var requestsBefore = Interlocked.Read(ref requests);
        var perJob = await publisher.PublishAtRateAsync(jobs, rate, TimeSpan.FromSeconds(seconds));
        var viewers = new long[jobs.Length];
        for (var i = 0; i < clients; i++) viewers[i % jobs.Length]++;
        var expected = perJob.Select((n, j) => n * viewers[j]).Sum();
        var drain = Stopwatch.StartNew();
        while (latencies.Count < expected && drain.Elapsed < TimeSpan.FromSeconds(options.Number("drain", 10)))
            await Task.Delay(100);
        var cpuSeconds = gateway.CpuSeconds() - cpuBefore;
        var cpu = cpuSeconds / wall.Elapsed.TotalSeconds;
        var requestRate = (Interlocked.Read(ref requests) - requestsBefore) / wall.Elapsed.TotalSeconds;
        stop.Cancel();
        await Task.WhenAll(pollers).WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { });

        return new
        {
            mode = "poll",
            clients,
            jobs = jobCount,
            rate,
            seconds,
            interval_seconds = interval.TotalSeconds,
            published = perJob.Sum(),
            expected_deliveries = expected,
            latency = latencies.Summary(),
            delivered_ratio = expected == 0 ? 0 : Math.Round((double)latencies.Count / expected, 4),
            requests_per_second = Math.Round(requestRate, 1),
            request_errors = errors,
            mean_request_ms = requests == 0 ? 0 : Math.Round(requestTicks * 1000.0 / Stopwatch.Frequency / requests, 2),
            gateway_cpu_cores = Math.Round(cpu, 2),
            gateway_cpu_seconds = Math.Round(cpuSeconds, 2),
            updates_delivered = latencies.Count,
            gateway_cpu_ms_per_update = latencies.Count == 0 ? double.NaN : Math.Round(cpuSeconds * 1000 / latencies.Count, 4),
        };
    }
}
