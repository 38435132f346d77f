using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Vidline.Contracts;
using static Vidline.ProgressGateway.Tests.Integration.Polling;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>
/// Writers of many jobs store side by side on both instances (no lock is shared between jobs), yet a client that
/// drops its connection at any point and resumes with Last-Event-ID on either instance gets every event exactly once,
/// in order: on a job's stream and on a stream of many jobs.
/// </summary>
[Collection(nameof(GatewayFixture))]
public class ConcurrentResumeTests(GatewayFixture fixture)
{
    private const int Jobs = 12;
    private const int ProgressPerJob = 60;

    private readonly HttpClient[] _clients = [fixture.A.CreateClient(), fixture.B.CreateClient()];
    private readonly EventLog[] _logs = [.. new[] { fixture.A, fixture.B }.Select(f => f.Services.GetRequiredService<EventLog>())];

    [Fact]
    public async Task Clients_that_reconnect_at_random_points_miss_nothing_and_get_nothing_twice_under_concurrent_writers()
    {
        var jobs = Enumerable.Range(0, Jobs).Select(_ => Guid.NewGuid()).ToArray();
        await Task.WhenAll(jobs.Select((job, i) => _logs[i % 2].ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding), default)));
        var many = await ReconnectingClient.StartAsync(_clients, $"/progress/stream?jobs={string.Join(',', jobs)}", seed: 1);
        var perJob = new List<(Guid Job, ReconnectingClient Client)>();
        foreach (var (job, i) in jobs.Take(4).Select((job, i) => (job, i)))
            perJob.Add((job, await ReconnectingClient.StartAsync(_clients, $"/jobs/{job}/stream", seed: 10 + i)));
        // They read (and hang up, and resume) while the writers write.
        var manyReads = many.ReadUntilAsync(seen => seen.Count(e => e.Event == EventTypes.Done) == Jobs);
        var perJobReads = perJob.Select(p => p.Client.ReadUntilAsync(seen => seen.LastOrDefault()?.Event == EventTypes.Done)).ToList();

        // Eight writers: half call the stores of A and B directly with batches that mix jobs in random order, half
        // publish through the broker (both instances consume). Every job's progress is spread over all of them.
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var random = new Random(100 + w);
            for (var step = w; step < ProgressPerJob; step += 8)
            {
                var batch = jobs.OrderBy(_ => random.Next()).Take(random.Next(1, Jobs + 1))
                    .Select(job => Messages.Progress(job, Stages.Transcoding, step)).ToList();
                var missing = jobs.Except(batch.Select(e => e.JobId)).Select(job => Messages.Progress(job, Stages.Transcoding, step));
                if (w % 2 == 0)
                {
                    await _logs[w / 2 % 2].AppendProgressAsync(batch, default);
                    await _logs[(w / 2 + 1) % 2].AppendProgressAsync(missing.ToList(), default);
                }
                else
                    foreach (var e in batch.Concat(missing)) await fixture.Bus.Publish(e);
            }
        }));
        await Task.WhenAll(writers);
        await Eventually(async () => (await Task.WhenAll(jobs.Select(fixture.StoredIds))).All(ids => ids.Count == 1 + ProgressPerJob), 60);
        await Task.WhenAll(jobs.Select((job, i) => i % 2 == 0
            ? _logs[i / 2 % 2].ApplyStatusAsync(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job)), default)
            : fixture.Bus.Publish(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job)))));

        await Eventually(async () => (await Task.WhenAll(jobs.Select(fixture.StoredIds))).All(ids => ids.Count == 2 + ProgressPerJob), 60);
        var stored = new Dictionary<Guid, List<long>>();
        foreach (var job in jobs) stored[job] = await fixture.StoredIds(job);

        var received = await manyReads;
        Assert.Equal(stored.Values.SelectMany(ids => ids).Where(id => id > many.StartedAfter).Order(), received.Select(e => e.Id!.Value));
        Assert.True(many.Connections > 10, $"only {many.Connections} connections");

        foreach (var ((job, client), reads) in perJob.Zip(perJobReads))
        {
            var events = await reads;
            Assert.Equal(stored[job].Where(id => id > client.StartedAfter), events.Select(e => e.Id!.Value));
            Assert.True(client.Connections > 3, $"only {client.Connections} connections");
        }
    }

    [Fact]
    public async Task An_event_committed_late_is_not_overtaken_on_a_stream_of_many_jobs_nor_skipped()
    {
        var (slow, quick) = await TwoJobsTranscodingAsync();
        var filter = new EventFilter(new HashSet<Guid> { slow, quick });
        var history = fixture.A.Services.GetRequiredService<EventHistory>();

        var start = (await fixture.StoredIds(slow)).Concat(await fixture.StoredIds(quick)).Max();
        await using var stream = await SseClient.OpenAsync(_clients[1], $"/progress/stream?jobs={slow},{quick}&lastEventId={start}");

        // A writer of `slow` stores its event the way EventLog does, then holds its transaction open...
        await using var transaction = await HoldOpenAsync(slow);
        // ...while another writer commits a later event of another job.
        await _logs[1].AppendWarningAsync(Messages.Warning(quick, Stages.Transcoding, "early"), default);
        var quickId = (await fixture.StoredIds(quick))[^1];

        Assert.Empty(await history.ReadAfterAsync(start, filter, 100, default));
        Assert.True(await history.HeldBackAsync(default));
        // One job on its own is read up to its newest event: its ids commit in order.
        Assert.Equal([quickId], (await history.ReadAfterAsync(start, EventFilter.ForJob(quick), 100, default)).Select(e => e.Id));

        await transaction.CommitAsync();
        var slowId = (await fixture.StoredIds(slow))[^1];
        Assert.True(slowId < quickId);

        var first = await stream.ExpectAsync(EventTypes.Warning);
        var second = await stream.ExpectAsync(EventTypes.Warning);
        Assert.Equal([slowId, quickId], new[] { first.Id!.Value, second.Id!.Value });
        Assert.Equal([slowId, quickId], (await history.ReadAfterAsync(start, filter, 100, default)).Select(e => e.Id));
    }

    [Fact]
    public async Task A_stream_of_one_job_gets_its_events_live_while_a_transaction_in_another_database_holds_the_horizon()
    {
        var (job, other) = await TwoJobsTranscodingAsync();
        await using var perJob = await SseClient.OpenAsync(_clients[0], $"/jobs/{job}/stream");
        await using var oneOfMany = await SseClient.OpenAsync(_clients[1], $"/progress/stream?jobs={job}");
        await using var many = await SseClient.OpenAsync(_clients[1], $"/progress/stream?jobs={job},{other}");
        await perJob.ExpectAsync(EventTypes.Status);
        await oneOfMany.ExpectAsync(EventTypes.Status);
        await many.ExpectAsync(EventTypes.Status);
        await many.ExpectAsync(EventTypes.Status);

        await using var open = await HoldHorizonElsewhereAsync();

        var manyNext = many.NextAsync(TimeSpan.FromSeconds(60));
        await _logs[1].AppendProgressAsync([Messages.Progress(job, Stages.Transcoding, 30)], default);
        var stored = (await fixture.StoredIds(job))[^1];
        Assert.True(await fixture.A.Services.GetRequiredService<EventHistory>().HeldBackAsync(default));

        // The job's own streams get it while the transaction is still open...
        Assert.Equal(stored, (await perJob.ExpectAsync(EventTypes.Progress, TimeSpan.FromSeconds(10))).Id);
        Assert.Equal(stored, (await oneOfMany.ExpectAsync(EventTypes.Progress, TimeSpan.FromSeconds(10))).Id);
        // ...a stream of many jobs does not (another job's id may still commit below it); give a wrong delivery a moment.
        await Task.Delay(500);
        Assert.False(manyNext.IsCompleted, "a stream of many jobs got an event from past the horizon");

        await open.CommitAsync();
        Assert.Equal(stored, (await manyNext)?.Id);
        // Each stream gets the event once: the next one each sees is the job's next event.
        await _logs[0].AppendProgressAsync([Messages.Progress(job, Stages.Transcoding, 40)], default);
        var next = (await fixture.StoredIds(job))[^1];
        Assert.Equal(next, (await perJob.ExpectAsync(EventTypes.Progress)).Id);
        Assert.Equal(next, (await oneOfMany.ExpectAsync(EventTypes.Progress)).Id);
        Assert.Equal(next, (await many.ExpectAsync(EventTypes.Progress)).Id);
    }

    [Fact]
    public async Task A_job_stream_gets_an_event_that_commits_late_below_ids_already_read_past_the_horizon()
    {
        var (slow, quick) = await TwoJobsTranscodingAsync();
        await using var slowStream = await SseClient.OpenAsync(_clients[0], $"/jobs/{slow}/stream");
        await using var quickStream = await SseClient.OpenAsync(_clients[0], $"/jobs/{quick}/stream");
        await slowStream.ExpectAsync(EventTypes.Status);
        await quickStream.ExpectAsync(EventTypes.Status);

        // The horizon stays below everything here, so these events reach the streams only from past it. `slow` stores
        // an event and stays open; `quick` commits a larger id, which instance A reads past the horizon.
        await using var horizon = await HoldHorizonElsewhereAsync();
        long lateId;
        await using (var transaction = await HoldOpenAsync(slow))
        {
            await _logs[1].AppendProgressAsync([Messages.Progress(quick, Stages.Transcoding, 10)], default);
            Assert.Equal((await fixture.StoredIds(quick))[^1], (await quickStream.ExpectAsync(EventTypes.Progress)).Id);
            await transaction.CommitAsync();
            lateId = (await fixture.StoredIds(slow))[^1];
            Assert.True(lateId < (await fixture.StoredIds(quick))[^1]);
        }
        // The late event still reaches its job's stream, before the job's next one.
        await _logs[0].AppendProgressAsync([Messages.Progress(slow, Stages.Transcoding, 20)], default);
        Assert.Equal(lateId, (await slowStream.ExpectAsync(EventTypes.Warning)).Id);
        Assert.Equal((await fixture.StoredIds(slow))[^1], (await slowStream.ExpectAsync(EventTypes.Progress)).Id);
    }

    /// <summary>Two new jobs in transcoding, one stored through each instance.</summary>
    private async Task<(Guid, Guid)> TwoJobsTranscodingAsync()
    {
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
        await _logs[0].ApplyStatusAsync(Messages.Status(first, JobStatuses.Processing, Stages.Transcoding), default);
        await _logs[1].ApplyStatusAsync(Messages.Status(second, JobStatuses.Processing, Stages.Transcoding), default);
        return (first, second);
    }

    /// <summary>A transaction that has stored an event of <paramref name="job"/> the way EventLog does, left open.</summary>
    private async Task<HeldTransaction> HoldOpenAsync(Guid job)
    {
        var connection = await fixture.Db.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var hold = new NpgsqlCommand($"""
            SELECT pg_advisory_xact_lock(@lock);
            INSERT INTO progress_events (id, job_id, run, message_id, type, stage, message, data, created_at)
            VALUES ({string.Format(EventOrder.NewId, 1)}, @job, 1, gen_random_uuid(), 'warning', 'transcoding', 'late',
                    jsonb_build_object('job_id', @job, 'message', 'late'), now());
            """, connection, transaction);
        hold.Parameters.AddWithValue("lock", EventOrder.JobLock(job));
        hold.Parameters.AddWithValue("job", job);
        await hold.ExecuteNonQueryAsync();
        return new HeldTransaction(connection, transaction);
    }

    /// <summary>
    /// A session of another database in the same cluster (psql, pg_dump, another application) with a transaction id,
    /// left open: it holds the horizon back for every database of the cluster.
    /// </summary>
    private static async Task<HeldTransaction> HoldHorizonElsewhereAsync()
    {
        var connection = new NpgsqlConnection($"{LocalServers.Postgres};Database=postgres;Pooling=false");
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var xid = new NpgsqlCommand("SELECT pg_current_xact_id()", connection, transaction);
        await xid.ExecuteScalarAsync();
        return new HeldTransaction(connection, transaction);
    }

    private sealed record HeldTransaction(NpgsqlConnection Connection, NpgsqlTransaction Transaction) : IAsyncDisposable
    {
        public Task CommitAsync() => Transaction.CommitAsync();

        public async ValueTask DisposeAsync()
        {
            await Transaction.DisposeAsync();
            await Connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_fresh_stream_of_many_jobs_does_not_send_again_what_its_snapshots_reflect()
    {
        var (slow, watched) = await TwoJobsTranscodingAsync();
        await using (var transaction = await HoldOpenAsync(slow))
        {
            // Committed, visible, but above the horizon while `slow` stays open: the snapshot shows it at 40%.
            await _logs[1].AppendProgressAsync([Messages.Progress(watched, Stages.Transcoding, 40)], default);
            await using var stream = await SseClient.OpenAsync(_clients[0], $"/progress/stream?jobs={watched}&status={JobStatuses.Processing}");
            var snapshot = await stream.ExpectAsync(EventTypes.Status);
            Assert.True(snapshot.Id < (await fixture.StoredIds(watched))[^1]);
            Assert.Equal(Stages.Find(Stages.Transcoding)!.Overall(40), snapshot.Json.GetProperty("progress").GetDouble());

            await transaction.CommitAsync();
            await _logs[0].AppendProgressAsync([Messages.Progress(watched, Stages.Transcoding, 60)], default);
            var next = await stream.ExpectAsync(EventTypes.Progress);
            Assert.Equal(60, next.Json.GetProperty("stage_progress").GetDouble());
        }
    }

    /// <summary>
    /// An EventSource that hangs up after a random number of events (0 to 25) and resumes with Last-Event-ID, taking
    /// turns between the instances. It keeps the events of every connection but the <c>status</c> snapshot it began with.
    /// </summary>
    private sealed class ReconnectingClient
    {
        private readonly HttpClient[] _instances;
        private readonly string _url;
        private readonly Random _random;
        private readonly List<SseEvent> _events = [];
        private string? _lastEventId;

        private ReconnectingClient(HttpClient[] instances, string url, int seed) =>
            (_instances, _url, _random) = (instances, url, new Random(seed));

        /// <summary>The id the first connection's snapshot is current to: the stream carries what comes after it.</summary>
        public long StartedAfter { get; private set; }

        public int Connections { get; private set; }

        public static async Task<ReconnectingClient> StartAsync(HttpClient[] instances, string url, int seed)
        {
            var client = new ReconnectingClient(instances, url, seed);
            await using var first = await SseClient.OpenAsync(instances[0], url);
            client.StartedAfter = (await first.ExpectAsync(EventTypes.Status)).Id!.Value;
            client._lastEventId = client.StartedAfter.ToString();
            client.Connections = 1;
            return client;
        }

        public async Task<List<SseEvent>> ReadUntilAsync(Func<List<SseEvent>, bool> complete)
        {
            while (!complete(_events))
            {
                var instance = _instances[Connections++ % _instances.Length];
                await using var stream = await SseClient.OpenAsync(instance, _url, _lastEventId);
                for (var budget = _random.Next(0, 26); budget > 0 && !complete(_events); budget--)
                {
                    if (await stream.NextAsync() is not { } e) break;
                    Assert.NotEqual(EventTypes.Status, e.Event);
                    _events.Add(e);
                    _lastEventId = e.Id!.Value.ToString();
                }
            }
            return _events;
        }
    }
}
