using System.Collections.Immutable;
using System.Threading.Channels;

namespace Vidline.ProgressGateway;

/// <summary>Which events a subscriber wants: one job, a set of jobs, jobs in a status, or everything.</summary>
public sealed record EventFilter(IReadOnlySet<Guid>? Jobs = null, string? Status = null)
{
    public static EventFilter ForJob(Guid jobId) => new(new HashSet<Guid> { jobId });

    public bool Matches(StoredEvent e) =>
        (Jobs is null || Jobs.Contains(e.JobId)) && (Status is null || e.JobStatus == Status);
}

/// <summary>
/// In-memory fan-out of stored events to this instance's SSE clients. Publishing never waits: each
/// subscriber has a bounded buffer, and one that falls behind is cut off (its reader completes with
/// <see cref="SubscriberTooSlowException"/>) so the tailer and every other client keep going. The client
/// reconnects with Last-Event-ID and replays what it missed from the database.
/// </summary>
public sealed class LiveFeed
{
    private ImmutableList<Subscription> _subscribers = [];

    public int Count => _subscribers.Count;
    public int CountScope(string scope) => _subscribers.Count(s => s.Scope == scope);

    /// <param name="scope">A label for statistics (e.g. one job's stream or the all-jobs stream).</param>
    public Subscription Subscribe(EventFilter filter, int capacity, string scope = "")
    {
        var subscription = new Subscription(this, filter, capacity, scope);
        ImmutableInterlocked.Update(ref _subscribers, list => list.Add(subscription));
        return subscription;
    }

    public void Publish(IReadOnlyList<StoredEvent> events)
    {
        foreach (var subscriber in _subscribers)
            foreach (var e in events)
                if (subscriber.Filter.Matches(e) && !subscriber.TryDeliver(e))
                    break;
    }

    private void Remove(Subscription subscription) =>
        ImmutableInterlocked.Update(ref _subscribers, list => list.Remove(subscription));

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

        internal bool TryDeliver(StoredEvent e)
        {
            if (_channel.Writer.TryWrite(e)) return true;
            if (_channel.Writer.TryComplete(new SubscriberTooSlowException())) _feed.Remove(this);
            return false;
        }

        public void Dispose()
        {
            _channel.Writer.TryComplete();
            _feed.Remove(this);
        }
    }
}

public sealed class SubscriberTooSlowException() : Exception("The client fell too far behind the live feed.");
