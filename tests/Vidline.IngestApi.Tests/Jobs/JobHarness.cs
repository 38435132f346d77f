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

    public Task Publish<T>(T message) where T : class => Bus.Bus.Publish(message);

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
        await InState(jobId, m => m.Uploading);
        return jobId;
    }

    public async Task<Guid> TranscodingAsync(int priority = 0)
    {
        var jobId = await SubmittedAsync(priority);
        await Publish(new VideoUploaded(jobId, "clip.mp4", "anonymous", priority, DateTimeOffset.UtcNow, $"uploads/{jobId:N}/source", Clip));
        await InState(jobId, m => m.Transcoding);
        return jobId;
    }

    public async Task<Guid> ValidatingAsync()
    {
        var jobId = await TranscodingAsync();
        await Publish(new VideoTranscoded(jobId, 1, Renditions));
        await InState(jobId, m => m.Validating);
        return jobId;
    }

    public async Task<Guid> PackagingAsync()
    {
        var jobId = await ValidatingAsync();
        await Publish(new RenditionsValidated(jobId, 1, [new QualityScore("360p", 0.98, 41, null, true)]));
        await InState(jobId, m => m.Packaging);
        return jobId;
    }

    public async Task<Guid> StoringAsync()
    {
        var jobId = await PackagingAsync();
        await Publish(new RenditionsPackaged(jobId, 1, $"work/{jobId:N}/package", "master.m3u8", "manifest.mpd"));
        await InState(jobId, m => m.Storing);
        return jobId;
    }

    /// <summary>Brings a new job to the state waiting for <paramref name="stage"/>.</summary>
    public Task<Guid> AtStageAsync(string stage) => stage switch
    {
        Stages.Uploading => SubmittedAsync(),
        Stages.Transcoding => TranscodingAsync(),
        Stages.Validation => ValidatingAsync(),
        Stages.Packaging => PackagingAsync(),
        Stages.Storage => StoringAsync(),
        _ => throw new ArgumentOutOfRangeException(nameof(stage)),
    };

    public async ValueTask DisposeAsync()
    {
        await Bus.Stop();
        await _provider.DisposeAsync();
    }
}
