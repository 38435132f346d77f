using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Vidline.Contracts;
using Vidline.IngestApi.Jobs;

namespace Vidline.IngestApi.Tests.Jobs;

/// <summary>The VideoJob state machine on MassTransit's in-memory test harness, with helpers to walk a job forward.</summary>
public sealed class JobHarness : IAsyncDisposable
{
    public static readonly MediaInfo Clip = new(3, 640, 360, 25, 75, true, "h264");
    public static readonly IReadOnlyList<Rendition> Renditions = [new("360p", 640, 360, 800, 96, "work/x/renditions/360p.mp4")];

    private readonly ServiceProvider _provider;

    public ITestHarness Bus { get; }
    public ISagaStateMachineTestHarness<VideoJobStateMachine, VideoJobState> Saga { get; }
    public VideoJobStateMachine Machine { get; }
    public StagePolicy Policy { get; }

    private JobHarness(ServiceProvider provider, StagePolicy policy)
    {
        _provider = provider;
        Policy = policy;
        Bus = provider.GetRequiredService<ITestHarness>();
        Saga = Bus.GetSagaStateMachineHarness<VideoJobStateMachine, VideoJobState>();
        Machine = provider.GetRequiredService<VideoJobStateMachine>();
    }

    public static async Task<JobHarness> StartAsync(int maxAttempts = 3)
    {
        var policy = new StagePolicy { MaxAttempts = maxAttempts, StallTimeout = TimeSpan.FromSeconds(30) };
        var provider = new ServiceCollection()
            .AddSingleton(policy)
            .AddSingleton(TimeProvider.System)
            .AddMassTransitTestHarness(x =>
            {
                x.ConfigureUsageTelemetryOptions(o => o.Enabled = false);
                x.AddSagaStateMachine<VideoJobStateMachine, VideoJobState>();
            })
            .BuildServiceProvider(true);
        var harness = new JobHarness(provider, policy);
        await harness.Bus.Start();
        return harness;
    }

    /// <summary>
    /// Publishes <paramref name="message"/> and returns once the saga has received it (handled or ignored), so what a
    /// test asserts next is its effect.
    /// </summary>
    public async Task Publish<T>(T message) where T : class
    {
        var messageId = NewId.NextGuid();
        await Bus.Bus.Publish(message, context => context.MessageId = messageId);
        // Polls the bus's record rather than Consumed.Any(), which stops waiting once the harness has been idle a while.
        for (var i = 0; i < 200 && !Bus.Consumed.Select<T>().Any(m => m.Context.MessageId == messageId); i++) await Task.Delay(25);
        Assert.True(Bus.Consumed.Select<T>().Any(m => m.Context.MessageId == messageId),
            $"{typeof(T).Name} {messageId} was not consumed in 5 s; consumed: {string.Join(", ", Bus.Consumed.Select<T>().Select(m => m.Context.MessageId))}");
    }

    /// <summary>Asks the saga as the API does (a request) and returns its answer: accepted or refused.</summary>
    public async Task<object> Ask<T>(T request) where T : class
    {
        var answer = await Bus.Bus.CreateRequestClient<T>().GetResponse<JobCommandAccepted, JobCommandRefused>(request);
        return answer.Message;
    }

    /// <summary>The reason the saga refused <paramref name="request"/>; fails if it accepted it.</summary>
    public async Task<string> RefusalOf<T>(T request) where T : class => Assert.IsType<JobCommandRefused>(await Ask(request)).Reason;

    /// <summary>The attempt the saga is waiting for an answer to.</summary>
    public int AttemptOf(Guid jobId) => Saga.Sagas.Contains(jobId)!.Attempt;

    /// <summary>Waits until the saga for <paramref name="jobId"/> waits for <paramref name="stage"/>.</summary>
    public Task<VideoJobState> InState(Guid jobId, string stage) => InState(jobId, m => m.StateOf(stage));

    /// <summary>Waits until the saga for <paramref name="jobId"/> is in <paramref name="state"/>.</summary>
    public async Task<VideoJobState> InState(Guid jobId, Func<VideoJobStateMachine, State> state)
    {
        var expected = state(Machine).Name;
        for (var i = 0; i < 100; i++)
        {
            if (Saga.Sagas.Contains(jobId) is { } saga && saga.CurrentState == expected) return saga;
            await Task.Delay(50);
        }
        var faults = string.Join("; ", Bus.Published.Select<Fault>().Select(f => string.Join(",", f.Context.Message.Exceptions.Select(e => e.Message + " <- " + e.InnerException?.Message + " <- " + e.InnerException?.InnerException?.Message + e.InnerException?.StackTrace))));
        Assert.Fail($"job {jobId} never reached {expected}; it is in {Saga.Sagas.Contains(jobId)?.CurrentState ?? "no saga"}; faults: {faults}");
        return null!;
    }

    public int SentCount<T>(Guid jobId, Func<T, bool>? where = null) where T : class =>
        Bus.Sent.Select<T>().Count(m => JobIdOf(m.Context.Message) == jobId && (where?.Invoke(m.Context.Message) ?? true));

    public int PublishedCount<T>(Guid jobId, Func<T, bool>? where = null) where T : class =>
        Bus.Published.Select<T>().Count(m => JobIdOf(m.Context.Message) == jobId && (where?.Invoke(m.Context.Message) ?? true));

    private static Guid JobIdOf(object message) => (Guid)message.GetType().GetProperty("JobId")!.GetValue(message)!;

    // Walking a job forward, one stage answer at a time.
    public async Task<Guid> SubmittedAsync(int priority = 0)
    {
        var jobId = NewId.NextGuid();
        await Publish(new JobSubmitted(jobId, "clip.mp4", "anonymous", priority, DateTimeOffset.UtcNow));
        await InState(jobId, Stages.Uploading);
        return jobId;
    }

    public async Task<Guid> TranscodingAsync(int priority = 0)
    {
        var jobId = await SubmittedAsync(priority);
        await Publish(new VideoUploaded(jobId, "clip.mp4", "anonymous", priority, DateTimeOffset.UtcNow, $"uploads/{jobId:N}/source", Clip));
        await InState(jobId, Stages.Transcoding);
        return jobId;
    }

    public async Task<Guid> ValidatingAsync()
    {
        var jobId = await TranscodingAsync();
        await Publish(new VideoTranscoded(jobId, AttemptOf(jobId), Renditions));
        await InState(jobId, Stages.Validation);
        return jobId;
    }

    public async Task<Guid> PackagingAsync()
    {
        var jobId = await ValidatingAsync();
        await Publish(new RenditionsValidated(jobId, AttemptOf(jobId), [new QualityScore("360p", 0.98, 41, null, true)]));
        await InState(jobId, Stages.Packaging);
        return jobId;
    }

    public async Task<Guid> StoringAsync()
    {
        var jobId = await PackagingAsync();
        await Publish(new RenditionsPackaged(jobId, AttemptOf(jobId), $"work/{jobId:N}/package", "master.m3u8", "manifest.mpd"));
        await InState(jobId, Stages.Storage);
        return jobId;
    }

    /// <summary>Brings a new job to the state waiting for <paramref name="stage"/>.</summary>
    public Task<Guid> AtStageAsync(string stage) =>
        new Func<Task<Guid>>[] { () => SubmittedAsync(), () => TranscodingAsync(), ValidatingAsync, PackagingAsync, StoringAsync }
            [Stages.InOrder.ToList().FindIndex(s => s.Name == stage)]();

    public async ValueTask DisposeAsync()
    {
        await Bus.Stop();
        await _provider.DisposeAsync();
    }
}
