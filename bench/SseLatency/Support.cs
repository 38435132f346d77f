using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MassTransit;
using Vidline.Contracts;

namespace Vidline.Bench;

/// <summary>Publishes ProgressReported to the gateway's broker vhost, the way the stage workers do.</summary>
public sealed class Publisher : IAsyncDisposable
{
    /// <summary>Marks a bench message; the text after it is the Stopwatch timestamp taken just before publishing.</summary>
    public const string Marker = "bench ";

    private readonly IBusControl _bus;

    private Publisher(IBusControl bus) => _bus = bus;

    public static async Task<Publisher> StartAsync(Options options)
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
            cfg.Host(options.Text("amqp-host", "127.0.0.1"), (ushort)options.Int("amqp-port", 5672), options.Text("vhost"), h =>
            {
                h.Username("guest");
                h.Password("guest");
            }));
        await bus.StartAsync();
        return new Publisher(bus);
    }

    /// <summary>The job as the saga announces it, owned by <paramref name="tenant"/>: the gateway shows a job only to its owner.</summary>
    public Task PublishJobAsync(Guid jobId, string tenant)
    {
        var now = DateTimeOffset.UtcNow;
        return _bus.Publish(new JobStatusChanged(Guid.NewGuid(), jobId, $"bench-{jobId:N}", tenant, 0, JobStatuses.Processing,
            Stages.Transcoding, 1, 1, null, null, now, now));
    }

    /// <summary>
    /// One progress event. Its text carries <paramref name="scheduled"/> (a Stopwatch timestamp), the time it was due:
    /// latency counts from then, so a publisher that falls behind shows up as latency instead of hiding it.
    /// </summary>
    public Task PublishAsync(Guid jobId, double progress = 30, long? scheduled = null)
    {
        var message = new ProgressReported(Guid.NewGuid(), jobId, 1, Stages.Transcoding, progress,
            Marker + (scheduled ?? Stopwatch.GetTimestamp()), DateTimeOffset.UtcNow);
        return _bus.Publish(message);
    }

    /// <summary><paramref name="count"/> progress events round-robin over the jobs, as fast as possible (1,000 in flight).</summary>
    public async Task PublishFloodAsync(Guid[] jobs, int count)
    {
        var inFlight = new List<Task>(1000);
        for (var i = 0; i < count; i++)
        {
            inFlight.Add(PublishAsync(jobs[i % jobs.Length], progress: 30 + 40.0 * i / count));
            if (inFlight.Count == 1000) { await Task.WhenAll(inFlight); inFlight.Clear(); }
        }
        await Task.WhenAll(inFlight);
    }

    /// <summary>
    /// Publishes at <paramref name="rate"/> per second for <paramref name="duration"/>, round-robin over the jobs, each
    /// event stamped with the fixed time it was scheduled for (start + n / rate). Returns how many went to each job.
    /// </summary>
    public async Task<long[]> PublishAtRateAsync(Guid[] jobs, double rate, TimeSpan duration)
    {
        var perJob = new long[jobs.Length];
        var inFlight = new List<Task>();
        var clock = Stopwatch.StartNew();
        var start = Stopwatch.GetTimestamp();
        long sent = 0;
        while (clock.Elapsed < duration)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * rate);
            for (; sent < due; sent++)
            {
                var j = (int)(sent % jobs.Length);
                perJob[j]++;
                inFlight.Add(PublishAsync(jobs[j], scheduled: start + (long)(sent * Stopwatch.Frequency / rate)));
            }
            if (inFlight.Count >= 500) { await Task.WhenAll(inFlight); inFlight.Clear(); }
            await Task.Delay(2);
        }
        await Task.WhenAll(inFlight);
        return perJob;
    }

    public async ValueTask DisposeAsync() => await _bus.StopAsync();

    /// <summary>The Stopwatch timestamp in a bench message text, or null.</summary>
    public static long? SentAt(ReadOnlySpan<char> text) =>
        text.StartsWith(Marker) && long.TryParse(text[Marker.Length..], out var ts) ? ts : null;
}

/// <summary>Latency samples (Stopwatch ticks) collected from many tasks at once.</summary>
public sealed class Latencies(int capacity)
{
    private readonly long[] _samples = new long[capacity];
    private int _count;
    private long _dropped;

    public void Add(long ticks)
    {
        var i = Interlocked.Increment(ref _count) - 1;
        if (i < _samples.Length) _samples[i] = ticks;
        else Interlocked.Increment(ref _dropped);
    }

    public long Count => Math.Min(Volatile.Read(ref _count), _samples.Length) + Interlocked.Read(ref _dropped);

    public object Summary()
    {
        var n = Math.Min(_count, _samples.Length);
        var ms = _samples.Take(n).Select(t => t * 1000.0 / Stopwatch.Frequency).Order().ToArray();
        double P(double q) => ms.Length == 0 ? double.NaN : Math.Round(ms[Math.Min(ms.Length - 1, (int)Math.Ceiling(q * ms.Length) - 1)], 2);
        return new
        {
            samples = Count,
            p50_ms = P(0.50),
            p90_ms = P(0.90),
            p99_ms = P(0.99),
            max_ms = ms.Length == 0 ? double.NaN : Math.Round(ms[^1], 2),
            mean_ms = ms.Length == 0 ? double.NaN : Math.Round(ms.Average(), 2),
        };
    }
}

/// <summary>
/// The gateway under test: its HTTP API and, through /proc, its memory and CPU time. Requests carry the API key in
/// <c>VIDLINE_API_KEY</c> (bench/run.sh makes one with scripts/keys.sh), of the tenant <c>--tenant</c> names.
/// </summary>
public sealed class Gateway(Options options)
{
    public HttpClient Http { get; } = new()
    {
        BaseAddress = new Uri(options.Text("gateway")),
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestHeaders = { Authorization = Authorization },
    };

    private static AuthenticationHeaderValue Authorization =>
        new("Bearer", Environment.GetEnvironmentVariable("VIDLINE_API_KEY") ?? throw new InvalidOperationException("VIDLINE_API_KEY is not set."));

    private readonly string _tenant = options.Text("tenant", "bench");
    private readonly int _pid = options.Int("gateway-pid", 0);

    /// <summary>A client of its own (e.g. with a connection pool sized for thousands of streams, or through the edge), with the key.</summary>
    public HttpClient NewClient(HttpMessageHandler handler, TimeSpan timeout, Uri? baseAddress = null) =>
        new(handler) { BaseAddress = baseAddress ?? Http.BaseAddress, Timeout = timeout, DefaultRequestHeaders = { Authorization = Authorization } };

    public long RssKb() => _pid == 0 ? 0 : ProcessTree.StatusField(_pid, "VmRSS");

    /// <summary>Proportional set size: what this process costs the machine, shared pages divided among their users.</summary>
    public long PssKb() => _pid == 0 ? 0 : ProcessTree.PssKb(_pid);

    /// <summary>User + system CPU seconds the gateway has used so far.</summary>
    public double CpuSeconds()
    {
        if (_pid == 0) return 0;
        var stat = File.ReadAllText($"/proc/{_pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0; // utime, stime in clock ticks (USER_HZ = 100)
    }

    public async Task<long> StoredTotalAsync()
    {
        var stats = await Http.GetFromJsonAsync<JsonElement>("/progress/stats");
        return stats.GetProperty("events_stored_total").GetInt64();
    }

    /// <summary>Creates the bench jobs, owned by the bench's tenant (each stores one <c>stage</c> event).</summary>
    public async Task<Guid[]> CreateJobsAsync(Publisher publisher, int count)
    {
        var jobs = Enumerable.Range(0, count).Select(_ => Guid.NewGuid()).ToArray();
        var before = await StoredTotalAsync();
        await Task.WhenAll(jobs.Select(j => publisher.PublishJobAsync(j, _tenant)));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await StoredTotalAsync() < before + count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the gateway did not store the seed events within 60 s");
            await Task.Delay(200);
        }
        return jobs;
    }
}

/// <summary>A process and its children (nginx: the master and its workers), for their memory through /proc.</summary>
public sealed class ProcessTree(int rootPid)
{
    public IReadOnlyList<int> Pids()
    {
        if (rootPid == 0) return [];
        var children = Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ParentOf(pid) == rootPid);
        return [rootPid, .. children];
    }

    public int Count() => Pids().Count;

    /// <summary>The summed resident memory; a process gone meanwhile counts nothing.</summary>
    public long RssKb() => Pids().Sum(pid => StatusField(pid, "VmRSS"));

    /// <summary>The summed proportional set size (smaps_rollup).</summary>
    public long PssKb() => Pids().Sum(PssKb);

    public static long PssKb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/smaps_rollup").FirstOrDefault(l => l.StartsWith("Pss:"));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        catch (IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
    }

    private static int ParentOf(int pid) => (int)StatusField(pid, "PPid");

    /// <summary>A number field of /proc/PID/status (VmRSS in KiB, PPid), 0 when the process is gone.</summary>
    public static long StatusField(int pid, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field + ":"));
            return line is null ? 0 : long.Parse(line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        catch (IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
    }
}

public static class Log
{
    public static void Note(string text) => Console.Error.WriteLine($"[bench {DateTime.Now:HH:mm:ss}] {text}");
}
