using System.Collections.Immutable;
using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

namespace Vidline.ProgressGateway;

/// <summary>
/// Which events a subscriber wants: one job, a set of jobs, jobs in a status, or everything — of one tenant's jobs
/// (<paramref name="Owner"/>; null only for the tailer, which reads every tenant's events to fan them out).
/// </summary>
public sealed record EventFilter(IReadOnlySet<Guid>? Jobs = null, string? Status = null, string? Owner = null)
{
    /// <summary>
    /// SQL: the jobs <c>j</c> a filter lets through, its parts given by <see cref="AddTo"/> (<c>@jobs</c>, <c>@status</c>,
    /// <c>@owner</c>; null means any). The one place the database applies a stream's filter.
    /// </summary>
    public const string Sql = """
        (@jobs::uuid[] IS NULL OR j.id = ANY (@jobs)) AND (@status::text IS NULL OR j.status = @status)
          AND (@owner::text IS NULL OR j.owner = @owner)
        """;

    public static EventFilter ForJob(Guid jobId, string? owner = null) => new(new HashSet<Guid> { jobId }, Owner: owner);

    /// <summary>
    /// A stream of exactly one job: its ids commit in order, so it may be read past the horizon
    /// (<see cref="EventOrder"/>).
    /// </summary>
    public bool IsOneJob => Jobs is { Count: 1 };

    public bool Matches(StoredEvent e) =>
        (Jobs is null || Jobs.Contains(e.JobId)) && (Status is null || e.JobStatus == Status) && (Owner is null || e.JobOwner == Owner);

    /// <summary>The parameters of <see cref="Sql"/> for <paramref name="filter"/> (null: everything).</summary>
    public static void AddTo(NpgsqlCommand command, EventFilter? filter)
    {
        command.Parameters.Add(new NpgsqlParameter("jobs", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = (object?)filter?.Jobs?.ToArray() ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("status", NpgsqlDbType.Text) { Value = (object?)filter?.Status ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("owner", NpgsqlDbType.Text) { Value = (object?)filter?.Owner ?? DBNull.Value });
    }
}

/// <summary>
/// In-memory fan-out of stored events to this instance's SSE clients. Publishing never waits: each
/// subscriber has a bounded buffer, and one that falls behind is cut off (its reader completes with
/// <see cref="SubscriberTooSlowException"/>) so the tailer and every other client keep going. The client
/// reconnects with Last-Event-ID and replays what it missed from the database.
/// </summary>
public sealed class LiveFeed
{
    // Subscribers that name their jobs are indexed by job, so an event costs only its own job's clients,
    // not one filter check per connected client (10,000 clients × 1,000 events/s would be 10 M checks/s).
    private ImmutableDictionary<Guid, ImmutableList<Subscription>> _byJob = ImmutableDictionary<Guid, ImmutableList<Subscription>>.Empty;
    private ImmutableList<Subscription> _everyJob = [];
    private int _count;
    private int _oneJob;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Whether any subscriber follows exactly one job: only those take events from past the horizon.</summary>
    public bool HasOneJobSubscribers => Volatile.Read(ref _oneJob) > 0;
    public int CountScope(string scope) =>
        _everyJob.Count(s => s.Scope == scope) + _byJob.Values.SelectMany(list => list).Distinct().Count(s => s.Scope == scope);

    /// <param name="scope">A label for statistics (e.g. one job's stream or the all-jobs stream).</param>
    public Subscription Subscribe(EventFilter filter, int capacity, string scope = "")
    {
        var subscription = new Subscription(this, filter, capacity, scope);
        if (filter.Jobs is null)
            ImmutableInterlocked.Update(ref _everyJob, list => list.Add(subscription));
        else
            foreach (var job in filter.Jobs)
                ImmutableInterlocked.AddOrUpdate(ref _byJob, job, _ => [subscription], (_, list) => list.Add(subscription));
        Interlocked.Increment(ref _count);
        if (filter.IsOneJob) Interlocked.Increment(ref _oneJob);
        GatewayMetrics.SseClients.Add(1, GatewayMetrics.StreamTag(scope));
        return subscription;
    }

    /// <summary>
    /// Events in id order. Those read past the horizon (<see cref="StoredEvent.PastHorizon"/>) go only to subscribers
    /// of exactly one job: an id of another job may still commit below them. Every other subscriber gets them once
    /// the horizon has passed them, when they are published again (a one-job stream skips that copy by its id).
    /// </summary>
    public void Publish(IReadOnlyList<StoredEvent> events)
    {
        // A subscriber cut off as too slow gets no more.
        var byJob = _byJob;
        var everyJob = _everyJob;
        foreach (var e in events)
        {
            if (byJob.TryGetValue(e.JobId, out var watchers))
                foreach (var subscriber in watchers)
                    if ((!e.PastHorizon || subscriber.Filter.IsOneJob) && subscriber.Filter.Matches(e)) subscriber.TryDeliver(e);
            if (e.PastHorizon) continue;
            foreach (var subscriber in everyJob)
                if (subscriber.Filter.Matches(e)) subscriber.TryDeliver(e);
        }
    }

    private void Remove(Subscription subscription)
    {
        GatewayMetrics.SseClients.Add(-1, GatewayMetrics.StreamTag(subscription.Scope));
        if (subscription.Filter.Jobs is null)
            ImmutableInterlocked.Update(ref _everyJob, list => list.Remove(subscription));
        else
            foreach (var job in subscription.Filter.Jobs)
                ImmutableInterlocked.Update(ref _byJob, map =>
                    map.TryGetValue(job, out var list) && list.Remove(subscription) is var rest
                        ? rest.IsEmpty ? map.Remove(job) : map.SetItem(job, rest)
                        : map);
        Interlocked.Decrement(ref _count);
        if (subscription.Filter.IsOneJob) Interlocked.Decrement(ref _oneJob);
    }

    public sealed class Subscription : IDisposable
    {
        private readonly LiveFeed _feed;
        private readonly Channel<StoredEvent> _channel;

        internal Subscription(LiveFeed feed, EventFilter filter, int capacity, string scope)
        {
            _feed = feed;
            Filter = filter;
            Scope = scope;
            // Wait mode + TryWrite: a full buffer makes TryWrite fail instead of silently dropping an event.
            _channel = Channel.CreateBounded<StoredEvent>(new BoundedChannelOptions(Math.Max(1, capacity))
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = true,
                SingleWriter = true,
            });
        }

        public EventFilter Filter { get; }
        public string Scope { get; }
        public ChannelReader<StoredEvent> Reader => _channel.Reader;

        private int _removed;

        internal bool TryDeliver(StoredEvent e)
        {
            if (_channel.Writer.TryWrite(e)) return true;
            if (_channel.Writer.TryComplete(new SubscriberTooSlowException())) RemoveOnce();
            return false;
        }

        public void Dispose()
        {
            _channel.Writer.TryComplete();
            RemoveOnce();
        }

        private void RemoveOnce()
        {
            if (Interlocked.Exchange(ref _removed, 1) == 0) _feed.Remove(this);
        }
    }
}

public sealed class SubscriberTooSlowException() : Exception("The client fell too far behind the live feed.");
