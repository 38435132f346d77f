namespace Vidline.ProgressGateway;

/// <summary>This instance's counters for <c>GET /progress/stats</c>.</summary>
public sealed class GatewayStats(TimeProvider clock)
{
    private const int WindowSeconds = 10;
    /// <summary>
    /// Random per process start: enough to tell instances (and restarts) apart, and it tells a caller nothing about the
    /// host (no machine name, no process id).
    /// </summary>
    public string InstanceId { get; } = $"gw-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6))}";

    private readonly Lock _gate = new();
    private readonly long[] _buckets = new long[WindowSeconds];
    private readonly long[] _bucketSecond = new long[WindowSeconds];
    private long _storedTotal;

    public long EventsStoredTotal => Interlocked.Read(ref _storedTotal);

    public void RecordStored(int count)
    {
        if (count <= 0) return;
        GatewayMetrics.EventsStored.Add(count);
        Interlocked.Add(ref _storedTotal, count);
        var second = clock.GetUtcNow().ToUnixTimeSeconds();
        lock (_gate)
        {
            var slot = (int)(second % WindowSeconds);
            if (_bucketSecond[slot] != second) (_bucketSecond[slot], _buckets[slot]) = (second, 0);
            _buckets[slot] += count;
        }
    }

    /// <summary>Average over the last ten whole seconds: smooth enough to read, recent enough to matter.</summary>
    public double EventsPerSecond
    {
        get
        {
            var now = clock.GetUtcNow().ToUnixTimeSeconds();
            long sum = 0;
            lock (_gate)
                for (var i = 0; i < WindowSeconds; i++)
                    if (_bucketSecond[i] > now - WindowSeconds && _bucketSecond[i] <= now) sum += _buckets[i];
            return Math.Round(sum / (double)WindowSeconds, 2);
        }
    }
}
