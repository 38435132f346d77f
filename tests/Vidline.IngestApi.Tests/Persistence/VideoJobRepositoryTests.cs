using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Vidline.Contracts;
using Vidline.IngestApi.Jobs;
using Vidline.IngestApi.Persistence;

namespace Vidline.IngestApi.Tests.Persistence;

/// <summary>The VideoJob saga on its PostgreSQL repository (real database, in-memory transport).</summary>
public sealed class VideoJobRepositoryTests(PostgresTestDatabase db) : IClassFixture<PostgresTestDatabase>
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    static readonly MediaInfo Clip = new(3, 640, 360, 25, 75, true, "h264");

    VideoJobTable Jobs => new(db.DataSource);

    [Fact]
    public async Task A_job_survives_a_restart_each_write_bumps_its_version_and_the_queried_columns_follow_it()
    {
        var id = NewId.NextGuid();
        await using (var bus = await StartBus())
        {
            await bus.PublishAndWait(new JobSubmitted(id, "clip.mp4", "tenant", 0, DateTimeOffset.UtcNow));
            await bus.PublishAndWait(new VideoUploaded(id, "clip.mp4", "tenant", 0, DateTimeOffset.UtcNow, "uploads/x/source", Clip));
        }
        var stored = await Jobs.FindAsync(id, default);
        Assert.NotNull(stored);
        Assert.Equal(Stages.Transcoding.Name, stored.CurrentState);
        Assert.Equal(2, stored.Version);
        Assert.Equal(Clip, stored.Source);

        // Dispatched, not yet taken by a node: the queue's timeout applies, not the stall timeout.
        var (past, future) = (DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.False(await Column<bool>(id, "attempt_started"));
        Assert.DoesNotContain(await Jobs.SilentSinceAsync([Stages.Transcoding.Name], startedCutoff: future, queuedCutoff: past, default), j => j.CorrelationId == id);
        Assert.Single(await Jobs.SilentSinceAsync([Stages.Transcoding.Name], startedCutoff: past, queuedCutoff: future, default), j => j.CorrelationId == id);

        var seenBefore = await Column<DateTime>(id, "last_seen_at");
        await using (var bus = await StartBus())
        {
            await Task.Delay(20);
            await bus.PublishAndWait(new StageHeartbeat(id, Stages.Transcoding, stored.Attempt, DateTimeOffset.UtcNow));
            Assert.True(await Column<DateTime>(id, "last_seen_at") > seenBefore);
            Assert.True(await Column<bool>(id, "attempt_started"));
            (past, future) = (DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
            Assert.Single(await Jobs.SilentSinceAsync([Stages.Transcoding.Name], startedCutoff: future, queuedCutoff: past, default), j => j.CorrelationId == id);
            Assert.DoesNotContain(await Jobs.SilentSinceAsync([Stages.Transcoding.Name], startedCutoff: past, queuedCutoff: future, default), j => j.CorrelationId == id);

            await bus.PublishAndWait(new StageFailed(id, Stages.Transcoding, stored.Attempt, "bad input", Permanent: true));
        }
        var failed = (await Jobs.FindAsync(id, default))!;
        Assert.Equal("Failed", failed.CurrentState);
        Assert.Equal(4, failed.Version);
        Assert.Equal(failed.FinishedAt!.Value.UtcDateTime, await Column<DateTime>(id, "finished_at"), TimeSpan.FromMilliseconds(1));
        Assert.Single(await Jobs.FinishedBeforeAsync(["Failed"], DateTimeOffset.UtcNow.AddMinutes(1), default), j => j.CorrelationId == id);
    }

    [Fact]
    public async Task Concurrent_messages_for_one_job_never_lose_an_update()
    {
        const int heartbeats = 200;
        var id = NewId.NextGuid();
        await using var bus = await StartBus(concurrency: 16);
        await bus.PublishAndWait(new VideoUploaded(id, "clip.mp4", "tenant", 0, DateTimeOffset.UtcNow, "uploads/x/source", Clip));
        var before = (await Jobs.FindAsync(id, default))!;

        var ids = Enumerable.Range(0, heartbeats).Select(_ => NewId.NextGuid()).ToList();
        await Task.WhenAll(ids.Select(messageId => bus.Harness.Bus.Publish(
            new StageHeartbeat(id, Stages.Transcoding, before.Attempt, DateTimeOffset.UtcNow), c => c.MessageId = messageId)));
        var consumed = await bus.Consumed<StageHeartbeat>(m => m.JobId == id, heartbeats);

        var faults = consumed.Where(c => c.Exception is not null).Select(c => c.Exception!.GetBaseException().Message).ToList();
        Assert.True(faults.Count == 0, $"{faults.Count} of {heartbeats} failed, e.g. {faults.FirstOrDefault()}");
        Assert.Equal(before.Version + heartbeats, (await Jobs.FindAsync(id, default))!.Version);
    }

    [Fact]
    public async Task A_message_the_database_refuses_rolls_back_and_leaves_the_job_as_it_was()
    {
        var id = NewId.NextGuid();
        await using var bus = await StartBus();
        // PostgreSQL's jsonb refuses \u0000: a first message carrying it stores nothing.
        Assert.NotNull(await bus.PublishAndWait(new JobSubmitted(id, "nul\0key", "tenant", 0, DateTimeOffset.UtcNow), expectFault: true));
        Assert.Null(await Jobs.FindAsync(id, default));

        await bus.PublishAndWait(new JobSubmitted(id, "clip.mp4", "tenant", 0, DateTimeOffset.UtcNow));
        Assert.NotNull(await bus.PublishAndWait(
            new VideoUploaded(id, "nul\0key", "tenant", 0, DateTimeOffset.UtcNow, "uploads/x/source", Clip), expectFault: true));
        var job = (await Jobs.FindAsync(id, default))!;
        Assert.Equal((Stages.Uploading.Name, "clip.mp4", 1), (job.CurrentState, job.Key, job.Version));

        // The row is not left locked: the next message works on the stored state.
        await bus.PublishAndWait(new VideoUploaded(id, "clip.mp4", "tenant", 0, DateTimeOffset.UtcNow, "uploads/x/source", Clip));
        Assert.Equal(Stages.Transcoding.Name, (await Jobs.FindAsync(id, default))!.CurrentState);
    }

    [Fact]
    public async Task Racing_first_messages_create_one_job()
    {
        const int duplicates = 10;
        var id = NewId.NextGuid();
        await using var bus = await StartBus(concurrency: 16);

        await Task.WhenAll(Enumerable.Range(0, duplicates).Select(i => i % 2 == 0
            ? bus.Harness.Bus.Publish(new JobSubmitted(id, "clip.mp4", "tenant", 0, DateTimeOffset.UtcNow))
            : bus.Harness.Bus.Publish(new VideoUploaded(id, "clip.mp4", "tenant", 0, DateTimeOffset.UtcNow, "uploads/x/source", Clip))));
        var submitted = await bus.Consumed<JobSubmitted>(m => m.JobId == id, duplicates / 2);
        var uploaded = await bus.Consumed<VideoUploaded>(m => m.JobId == id, duplicates / 2);

        Assert.All(submitted, c => Assert.Null(c.Exception));
        Assert.All(uploaded, c => Assert.Null(c.Exception));
        await using var count = db.DataSource.CreateCommand("SELECT count(*) FROM video_job_saga WHERE correlation_id = @id");
        count.Parameters.AddWithValue("id", id);
        Assert.Equal(1L, await count.ExecuteScalarAsync());
        // The transcode command was written once, to the outbox, by whichever message created the job.
        Assert.Single(await new Outbox(db.DataSource).PendingAsync(default), m => m.JobId == id && m.Message is TranscodeVideo);
    }

    async Task<T> Column<T>(Guid id, string column)
    {
        await using var command = db.DataSource.CreateCommand($"SELECT {column} FROM video_job_saga WHERE correlation_id = @id");
        command.Parameters.AddWithValue("id", id);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    async Task<TestBus> StartBus(int concurrency = 4)
    {
        var services = new ServiceCollection()
            .AddSingleton(db.DataSource)
            .AddSingleton(new StagePolicy())
            .AddSingleton(TimeProvider.System);
        services.AddMassTransitTestHarness(x =>
        {
            x.ConfigureUsageTelemetryOptions(o => o.Enabled = false);
            x.SetTestTimeouts(testTimeout: Patience, testInactivityTimeout: TimeSpan.FromSeconds(5));
            x.AddSagaStateMachine<VideoJobStateMachine, VideoJobState>()
                .Endpoint(e =>
                {
                    e.ConcurrentMessageLimit = concurrency;
                    e.PrefetchCount = concurrency;
                })
                .PostgresRepository();
        });
        var provider = services.BuildServiceProvider(true);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        return new TestBus(provider, harness);
    }

    sealed class TestBus(ServiceProvider provider, ITestHarness harness) : IAsyncDisposable
    {
        public ITestHarness Harness => harness;

        /// <summary>Publishes and waits until the message was consumed; returns its fault, if any (asserted when unexpected).</summary>
        public async Task<Exception?> PublishAndWait<T>(T message, bool expectFault = false) where T : class
        {
            var messageId = NewId.NextGuid();
            await harness.Bus.Publish(message, c => c.MessageId = messageId);
            var consumed = Assert.Single(await ConsumedWhere<T>(m => m.Context.MessageId == messageId, 1));
            if (!expectFault) Assert.Null(consumed.Exception);
            return consumed.Exception;
        }

        public Task<List<IReceivedMessage<T>>> Consumed<T>(Func<T, bool> match, int count) where T : class =>
            ConsumedWhere<T>(m => match(m.Context.Message), count);

        /// <summary>
        /// Waits until <paramref name="count"/> matching messages were consumed (successfully or not). The bus-level list
        /// is used on purpose: it is notified after the repository committed, whereas the saga harness records the
        /// message while the transaction is still open.
        /// </summary>
        async Task<List<IReceivedMessage<T>>> ConsumedWhere<T>(Func<IReceivedMessage<T>, bool> match, int count) where T : class
        {
            var received = new List<IReceivedMessage<T>>();
            using var timeout = new CancellationTokenSource(Patience);
            try
            {
                await foreach (var message in harness.Consumed.SelectAsync<T>(m => match(m), timeout.Token))
                {
                    received.Add(message);
                    if (received.Count == count) break;
                }
            }
            catch (OperationCanceledException)
            {
            }
            Assert.True(received.Count == count, $"consumed {received.Count} of {count} {typeof(T).Name}");
            return received;
        }

        public async ValueTask DisposeAsync()
        {
            await harness.Stop();
            await provider.DisposeAsync();
        }
    }
}
