using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Vidline.Contracts;
using Vidline.Media.Storage;
using Vidline.ServiceDefaults;
using Vidline.StageWorker;
using Vidline.Transcoder;

namespace Vidline.Media.Tests;

/// <summary>The transcoding stage on MassTransit's in-memory harness, with real ffmpeg and a real folder as storage.</summary>
[Collection(MediaCollection.Name)]
public sealed class TranscodeStageTests(TestMedia media) : IAsyncLifetime
{
    private readonly string _root = media.NewWorkDirectory("transcode-stage");
    private ServiceProvider _services = null!;
    private ITestHarness _harness = null!;
    private IMediaStore Store => _services.GetRequiredService<IMediaStore>();

    public async Task InitializeAsync()
    {
        var services = new ServiceCollection().AddLogging();
        services.Configure<StorageOptions>(o => o.Root = _root);
        services.AddSingleton<IMediaStore, FileSystemMediaStore>();
        services.AddSingleton(media.Runner).AddSingleton(new LadderOptions()).AddSingleton<RenditionLadder>().AddSingleton<LadderTranscoder>();
        services.AddOptions<StageWorkOptions>();
        services.AddSingleton(new ServiceIdentity("transcoder", "test", "transcoder-test"));
        services.AddStageRuntime();
        services.AddMassTransitTestHarness(x =>
        {
            x.AddConsumer<TranscodeVideoConsumer>();
            // ffmpeg runs inside the attempt: the harness waits for its answer well past its default few seconds.
            x.SetTestTimeouts(testTimeout: TimeSpan.FromMinutes(2), testInactivityTimeout: TimeSpan.FromMinutes(1));
        });
        _services = services.BuildServiceProvider(true);
        _harness = _services.GetRequiredService<ITestHarness>();
        await _harness.Start();
    }

    public async Task DisposeAsync()
    {
        await _harness.Stop();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task An_attempt_that_fails_for_good_leaves_no_segments_behind()
    {
        // The source lost its second half (and its index) after it was probed: ffmpeg refuses it, which no retry changes.
        var job = Guid.NewGuid();
        var info = await new MediaProbe(media.Runner).ProbeAsync(media.Clip360);
        await using (var truncated = File.OpenRead(media.Truncated))
            await Store.WriteAsync(StorageKeys.Source(job), truncated, null, CancellationToken.None);
        // An earlier attempt's folder, carried over into this attempt's.
        await Store.WriteAsync($"{StorageKeys.Renditions(job)}/attempt-1.partial/{LadderFolder.EncodeRecordName}",
            new MemoryStream("another encode"u8.ToArray()), null, CancellationToken.None);

        await _harness.Bus.Publish(new TranscodeVideo(job, 1, 2, StorageKeys.Source(job), info, $"{StorageKeys.Renditions(job)}/attempt-2"));

        StageFailed? failed = null;
        await foreach (var message in _harness.Published.SelectAsync<StageFailed>(m => m.Context.Message.JobId == job))
        {
            failed = message.Context.Message;
            break;
        }
        Assert.NotNull(failed);
        Assert.True(failed!.Permanent, failed.Reason);
        Assert.Empty(Store.PrefixesUnder(StorageKeys.Renditions(job)));
    }
}
