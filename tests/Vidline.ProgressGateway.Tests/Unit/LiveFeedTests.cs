using System.Diagnostics;

namespace Vidline.ProgressGateway.Tests.Unit;

public class LiveFeedTests
{
    private static StoredEvent Event(long id, Guid job, string status = "processing") =>
        new(id, job, 1, "progress", "{}", status);

    [Fact]
    public async Task A_slow_subscriber_is_cut_off_without_holding_up_the_others()
    {
        var feed = new LiveFeed();
        var job = Guid.NewGuid();
        var slow = feed.Subscribe(EventFilter.ForJob(job), capacity: 3);
        var fast = feed.Subscribe(EventFilter.ForJob(job), capacity: 1000);

        var watch = Stopwatch.StartNew();
        for (var id = 1; id <= 500; id++) feed.Publish([Event(id, job)]);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), "publishing must never wait for a reader");

        // The slow one keeps what it buffered, then its stream ends with the reason.
        var received = new List<long>();
        await Assert.ThrowsAsync<SubscriberTooSlowException>(async () =>
        {
            await foreach (var e in slow.Reader.ReadAllAsync()) received.Add(e.Id);
        });
        Assert.Equal([1, 2, 3], received);

        var fastIds = new List<long>();
        while (fast.Reader.TryRead(out var e)) fastIds.Add(e.Id);
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), fastIds);
        Assert.Equal(1, feed.Count); // the slow one was removed
    }

    [Fact]
    public void An_event_from_past_the_horizon_reaches_only_streams_of_exactly_one_job()
    {
        var feed = new LiveFeed();
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        var one = feed.Subscribe(EventFilter.ForJob(a), capacity: 10);
        var two = feed.Subscribe(new EventFilter(new HashSet<Guid> { a, b }), capacity: 10);
        var all = feed.Subscribe(new EventFilter(), capacity: 10);
        Assert.True(feed.HasOneJobSubscribers);

        feed.Publish([Event(5, a) with { PastHorizon = true }]);
        feed.Publish([Event(5, a)]);

        Assert.Equal([true, false], PastHorizonFlags(one));
        Assert.Equal([false], PastHorizonFlags(two));
        Assert.Equal([false], PastHorizonFlags(all));
        one.Dispose();
        Assert.False(feed.HasOneJobSubscribers);
    }

    /// <summary>Whether each event the subscriber has received was read past the horizon.</summary>
    private static List<bool> PastHorizonFlags(LiveFeed.Subscription subscription)
    {
        var flags = new List<bool>();
        while (subscription.Reader.TryRead(out var e)) flags.Add(e.PastHorizon);
        return flags;
    }

    [Fact]
    public void Filters_by_job_set_and_status()
    {
        var feed = new LiveFeed();
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var some = feed.Subscribe(new EventFilter(new HashSet<Guid> { a, b }), 100, "all");
        var failed = feed.Subscribe(new EventFilter(Status: "failed"), 100, "all");
        var one = feed.Subscribe(EventFilter.ForJob(c), 100, "job");

        feed.Publish([Event(1, a), Event(2, b, "failed"), Event(3, c), Event(4, c, "failed")]);

        Assert.Equal([1L, 2L], Drain(some));
        Assert.Equal([2L, 4L], Drain(failed));
        Assert.Equal([3L, 4L], Drain(one));
        Assert.Equal(2, feed.CountScope("all"));
        Assert.Equal(1, feed.CountScope("job"));

        one.Dispose();
        Assert.Equal(2, feed.Count);
    }

    [Fact]
    public void A_tenants_subscriptions_get_only_its_own_jobs_events_even_when_they_name_other_jobs()
    {
        var feed = new LiveFeed();
        var (mine, theirs) = (Guid.NewGuid(), Guid.NewGuid());
        var everything = feed.Subscribe(new EventFilter(Owner: "acme"), 100, "all");
        var named = feed.Subscribe(new EventFilter(new HashSet<Guid> { mine, theirs }, Owner: "acme"), 100, "all");
        var foreignJob = feed.Subscribe(EventFilter.ForJob(theirs, "acme"), 100, "job");

        feed.Publish([Event(1, mine) with { JobOwner = "acme" }, Event(2, theirs) with { JobOwner = "globex" }, Event(3, theirs)]);

        Assert.Equal([1L], Drain(everything));
        Assert.Equal([1L], Drain(named));
        Assert.Empty(Drain(foreignJob));
    }

    private static List<long> Drain(LiveFeed.Subscription s)
    {
        var ids = new List<long>();
        while (s.Reader.TryRead(out var e)) ids.Add(e.Id);
        return ids;
    }
}
