using System.Text.Json;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Vidline.Contracts;
using Vidline.IngestApi.Jobs;
using Vidline.IngestApi.Persistence;
using Vidline.IngestApi.Tests.Jobs;

namespace Vidline.IngestApi.Tests.Persistence;

/// <summary>
/// The saga's transactional outbox (real PostgreSQL, in-memory transport): messages are stored with the job's row, and
/// delivered after the commit by <see cref="OutboxDispatcher"/> — also by another host after a crash, in order per job.
/// </summary>
public sealed class OutboxTests(PostgresTestDatabase db) : IClassFixture<PostgresTestDatabase>
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    static readonly MediaInfo Clip = JobHarness.Clip;

    Outbox Outbox => new(db.DataSource);

    [Fact]
    public async Task A_transition_stores_its_messages_with_the_job_and_sends_nothing_itself()
    {
        var id = NewId.NextGuid();
        await using (var host = await SagaHost.StartAsync(db, dispatcher: false))
        {
            await host.PublishAndWait(new JobSubmitted(id, "clip.mp4", "tenant", 7, DateTimeOffset.UtcNow));
            await host.PublishAndWait(new VideoUploaded(id, "clip.mp4", "tenant", 7, DateTimeOffset.UtcNow, "uploads/x/source", Clip));

            Assert.Equal(0, host.Harness.Sent.Select<TranscodeVideo>().Count(m => m.Context.Message.JobId == id));
            Assert.Equal(0, host.Harness.Published.Select<JobStatusChanged>().Count(m => m.Context.Message.JobId == id));
        }

        var stored = await PendingFor(id);
        Assert.Equal([nameof(JobStatusChanged), nameof(TranscodeVideo), nameof(JobStatusChanged)], stored.Select(m => m.Type.Name));
        var command = stored[1];
        Assert.Equal(new Uri("exchange:transcoding"), command.Destination);
        Assert.Equal((byte)7, command.Priority);
        Assert.Equal((1, 1), (((TranscodeVideo)command.Message).Run, ((TranscodeVideo)command.Message).Attempt));
        Assert.All([stored[0], stored[2]], m => Assert.Null(m.Destination));
    }

    [Fact]
    public async Task A_transition_the_database_refuses_leaves_no_message_behind()
    {
        var id = NewId.NextGuid();
        await using var host = await SagaHost.StartAsync(db, dispatcher: false);
        await host.PublishAndWait(new JobSubmitted(id, "clip.mp4", "tenant", 0, DateTimeOffset.UtcNow));
        var before = await PendingFor(id);

        // The transition writes its command and status to the outbox first; then the job's row (jsonb refuses \u0000)
        // fails, and the whole transaction rolls back, messages included.
        Assert.NotNull(await host.PublishAndWait(
            new VideoUploaded(id, "nul\0key", "tenant", 0, DateTimeOffset.UtcNow, "uploads/x/source", Clip), expectFault: true));

        Assert.Equal(before.Select(m => m.MessageId), (await PendingFor(id)).Select(m => m.MessageId));
        Assert.Equal(Stages.Uploading.Name, (await new VideoJobTable(db.DataSource).FindAsync(id, default))!.CurrentState);
    }

    [Fact]
    public async Task Messages_committed_before_a_crash_are_delivered_by_the_next_host_exactly_as_written_and_in_order()
    {
        var id = NewId.NextGuid();
        // The first host commits three transitions and dies before delivering anything.
        await using (var crashed = await SagaHost.StartAsync(db, dispatcher: false))
        {
            await crashed.PublishAndWait(new JobSubmitted(id, "clip.mp4", "tenant", 3, DateTimeOffset.UtcNow));
            await crashed.PublishAndWait(new VideoUploaded(id, "clip.mp4", "tenant", 3, DateTimeOffset.UtcNow, "uploads/x/source", Clip));
            await crashed.PublishAndWait(new VideoTranscoded(id, 1, [new Rendition("360p", 640, 360, 800, 96, "work/x/360p.mp4")]));
        }
        var written = await PendingFor(id);
        Assert.Equal(5, written.Count);

        // The next host's dispatcher finds them on its first pass: nobody woke it.
        await using var next = await SagaHost.StartAsync(db, dispatcher: true);
        var delivered = await next.Delivered.WaitForAsync(id, written.Count);

        Assert.Equal(written.Select(m => m.MessageId), delivered.Select(m => m.MessageId));
        Assert.Equal(written.Select(m => m.Body), delivered.Select(m => JsonSerializer.Serialize(m.Message, m.Message.GetType())));
        await DrainedAsync(id);
    }

    [Fact]
    public async Task A_commit_wakes_the_dispatcher_and_the_request_answer_reaches_the_requester()
    {
        var id = NewId.NextGuid();
        await using var host = await SagaHost.StartAsync(db, dispatcher: true);
        await host.PublishAndWait(new VideoUploaded(id, "clip.mp4", "tenant", 0, DateTimeOffset.UtcNow, "uploads/x/source", Clip));

        // The answer to a request travels through the outbox like any message, and is matched by its RequestId.
        var client = host.Harness.GetRequestClient<CancelJob>();
        var answer = await client.GetResponse<JobCommandAccepted, JobCommandRefused>(new CancelJob(id, "tenant"));
        Assert.True(answer.Is(out Response<JobCommandAccepted>? _));

        // Besides the test's own VideoUploaded and CancelJob, the saga's five, in the order the transitions wrote them.
        var delivered = (await host.Delivered.WaitForAsync(id, 7)).Where(m => m.Message is not (VideoUploaded or CancelJob)).ToList();
        Assert.Equal([nameof(TranscodeVideo), nameof(JobStatusChanged), nameof(JobCancelled), nameof(JobStatusChanged), nameof(JobCommandAccepted)],
            delivered.Select(m => m.Message.GetType().Name));
        Assert.Equal(JobStatuses.Cancelled, ((JobStatusChanged)delivered[3].Message).Status);
    }

    [Fact]
    public async Task Each_jobs_messages_leave_in_the_order_they_were_written_with_two_dispatchers_at_work()
    {
        const int jobs = 8, perJob = 40;
        var ids = Enumerable.Range(0, jobs).Select(_ => NewId.NextGuid()).ToList();
        await using var host = await SagaHost.StartAsync(db, dispatcher: true, dispatchers: 2);

        // Transactions for different jobs commit concurrently, each job's one after the other, as the saga's row lock has them.
        await Task.WhenAll(ids.Select(async id =>
        {
            for (var n = 1; n <= perJob; n++)
            {
                await using var transaction = await VideoJobTransaction.BeginAsync(new VideoJobTable(db.DataSource), default);
                await transaction.WriteToOutboxAsync(OutboxMessage.Of(id, Status(id, n)), default);
                await transaction.CommitAsync();
                host.Signal.Wake();
            }
        }));

        foreach (var id in ids)
        {
            var delivered = await host.Delivered.WaitForAsync(id, perJob);
            Assert.Equal(Enumerable.Range(1, perJob), delivered.Select(m => ((JobStatusChanged)m.Message).Attempt));
        }
        foreach (var id in ids) await DrainedAsync(id);
    }

    [Fact]
    public async Task A_message_the_bus_does_not_take_stays_and_holds_back_only_its_own_jobs_later_messages()
    {
        var (stuck, other) = (NewId.NextGuid(), NewId.NextGuid());
        await using var host = await SagaHost.StartAsync(db, dispatcher: false);
        await WriteAsync(OutboxMessage.Of(stuck, Status(stuck, 1)), OutboxMessage.Of(stuck, Status(stuck, 2)), OutboxMessage.Of(other, Status(other, 1)));
        var dispatcher = host.NewDispatcher();

        host.Delivered.Refuse(stuck, attempt: 1);
        await Assert.ThrowsAsync<InvalidOperationException>(() => dispatcher.DeliverBatchAsync(default));
        Assert.Equal([1, 2], (await PendingFor(stuck)).Select(m => ((JobStatusChanged)m.Message).Attempt));
        Assert.Empty(await PendingFor(other));
        Assert.Empty(host.Delivered.Of(stuck));

        // The broker takes it again: both leave, in order.
        host.Delivered.Refuse(stuck, attempt: -1);
        await dispatcher.DeliverBatchAsync(default);
        Assert.Equal([1, 2], host.Delivered.Of(stuck).Select(m => ((JobStatusChanged)m.Message).Attempt));
        Assert.Empty(await PendingFor(stuck));
    }

    static JobStatusChanged Status(Guid id, int n) =>
        new(NewId.NextGuid(), id, "clip.mp4", "tenant", 0, JobStatuses.Processing, Stages.Transcoding.Name, 1, n, null, null,
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);

    async Task WriteAsync(params OutboxMessage[] messages)
    {
        await using var transaction = await VideoJobTransaction.BeginAsync(new VideoJobTable(db.DataSource), default);
        foreach (var message in messages) await transaction.WriteToOutboxAsync(message, default);
        await transaction.CommitAsync();
    }

    /// <summary>Waits until the dispatcher deleted the job's rows, which it does once the pass's messages were all confirmed.</summary>
    async Task DrainedAsync(Guid id)
    {
        for (var waited = TimeSpan.Zero; (await PendingFor(id)).Count > 0 && waited < Patience; waited += TimeSpan.FromMilliseconds(50))
            await Task.Delay(50);
        Assert.Empty(await PendingFor(id));
    }

    async Task<List<OutboxMessage>> PendingFor(Guid id) => [.. (await Outbox.PendingAsync(default)).Where(m => m.JobId == id)];

    /// <summary>What left through the bus, per job in the order it was sent; can refuse a message to play a failing broker.</summary>
    sealed class DeliveryRecorder : ISendObserver, IPublishObserver
    {
        readonly List<(Guid MessageId, object Message)> _sent = [];
        (Guid Job, int Attempt) _refused;

        public void Refuse(Guid job, int attempt) => _refused = (job, attempt);

        public List<(Guid MessageId, object Message)> Of(Guid job)
        {
            lock (_sent) return [.. _sent.Where(m => JobOf(m.Message) == job)];
        }

        public async Task<List<(Guid MessageId, object Message)>> WaitForAsync(Guid job, int count)
        {
            for (var waited = TimeSpan.Zero; Of(job).Count < count && waited < Patience; waited += TimeSpan.FromMilliseconds(50))
                await Task.Delay(50);
            var delivered = Of(job);
            Assert.True(delivered.Count == count, $"{delivered.Count} of {count} messages of job {job} were delivered");
            return delivered;
        }

        static Guid JobOf(object message) => ((IJobMessage)message).JobId;

        Task Before<T>(SendContext<T> context) where T : class =>
            context.Message is JobStatusChanged status && (status.JobId, status.Attempt) == _refused
                ? throw new InvalidOperationException("refused by the test's broker")
                : Task.CompletedTask;

        Task After<T>(SendContext<T> context) where T : class
        {
            if (context.Message is IJobMessage)
                lock (_sent) if (_sent.All(m => m.MessageId != context.MessageId)) _sent.Add((context.MessageId!.Value, context.Message));
            return Task.CompletedTask;
        }

        public Task PreSend<T>(SendContext<T> context) where T : class => Before(context);
        public Task PostSend<T>(SendContext<T> context) where T : class => After(context);
        public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class => Task.CompletedTask;
        public Task PrePublish<T>(PublishContext<T> context) where T : class => Before(context);
        public Task PostPublish<T>(PublishContext<T> context) where T : class => After(context);
        public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }

    /// <summary>The saga on its PostgreSQL repository, optionally with running dispatchers: one ingest-api host.</summary>
    sealed class SagaHost : IAsyncDisposable
    {
        readonly ServiceProvider _provider;
        readonly List<OutboxDispatcher> _dispatchers = [];

        SagaHost(ServiceProvider provider) => _provider = provider;

        public ITestHarness Harness => _provider.GetRequiredService<ITestHarness>();
        public OutboxSignal Signal => _provider.GetRequiredService<OutboxSignal>();
        public DeliveryRecorder Delivered { get; } = new();

        public static async Task<SagaHost> StartAsync(PostgresTestDatabase db, bool dispatcher, int dispatchers = 1)
        {
            var services = new ServiceCollection()
                .AddSingleton(db.DataSource)
                .AddSingleton(new StagePolicy())
                .AddSingleton(TimeProvider.System)
                .AddSingleton<Outbox>()
                .AddSingleton<OutboxSignal>();
            services.AddMassTransitTestHarness(x =>
            {
                x.ConfigureUsageTelemetryOptions(o => o.Enabled = false);
                x.SetTestTimeouts(testTimeout: Patience, testInactivityTimeout: TimeSpan.FromSeconds(5));
                x.AddSagaStateMachine<VideoJobStateMachine, VideoJobState>().PostgresRepository();
            });
            var host = new SagaHost(services.BuildServiceProvider(true));
            await host.Harness.Start();
            host.Harness.Bus.ConnectSendObserver(host.Delivered);
            host.Harness.Bus.ConnectPublishObserver(host.Delivered);
            if (dispatcher)
                for (var i = 0; i < dispatchers; i++)
                {
                    var started = host.NewDispatcher();
                    host._dispatchers.Add(started);
                    await started.StartAsync(default);
                }
            return host;
        }

        public OutboxDispatcher NewDispatcher() =>
            new(_provider.GetRequiredService<Outbox>(), Signal, Harness.Bus,
                // Long, so that a dispatcher delivers only when it starts or a commit wakes it: never by polling in a test.
                Options.Create(new OutboxOptions { PollInterval = TimeSpan.FromMinutes(10) }), NullLogger<OutboxDispatcher>.Instance);

        /// <summary>Publishes and waits until the saga consumed it (committed); returns its fault, if any.</summary>
        public async Task<Exception?> PublishAndWait<T>(T message, bool expectFault = false) where T : class
        {
            var messageId = NewId.NextGuid();
            await Harness.Bus.Publish(message, c => c.MessageId = messageId);
            using var timeout = new CancellationTokenSource(Patience);
            await foreach (var consumed in Harness.Consumed.SelectAsync<T>(m => m.Context.MessageId == messageId, timeout.Token))
            {
                if (!expectFault) Assert.Null(consumed.Exception);
                return consumed.Exception;
            }
            Assert.Fail($"{typeof(T).Name} was not consumed");
            return null;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var dispatcher in _dispatchers) await dispatcher.StopAsync(default);
            await Harness.Stop();
            await _provider.DisposeAsync();
        }
    }
}
