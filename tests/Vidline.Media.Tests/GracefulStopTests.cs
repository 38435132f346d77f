using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Vidline.Contracts;
using Vidline.Media.Storage;
using Vidline.ServiceDefaults;
using Vidline.StageWorker;

namespace Vidline.Media.Tests;

/// <summary>
/// A packaging stage that, on node-1, runs an ffmpeg that would take ten minutes, and on any other node finishes at
/// once, saying which job it was given.
/// </summary>
public sealed class SlowOnFirstNode(StageRuntime runtime, FfmpegRunner runner) : StageConsumer<PackageRenditions>(runtime)
{
    public static readonly ConcurrentDictionary<Guid, TaskCompletionSource> FfmpegRunning = new();
    public static readonly ConcurrentDictionary<Guid, TaskCompletionSource> TakenByAnotherNode = new();

    protected override async Task<IStageCompleted> WorkAsync(PackageRenditions command, StageProgress progress, CancellationToken cancellationToken)
    {
        if (Runtime.Node != "node-1")
        {
            TakenByAnotherNode.GetOrAdd(command.JobId, _ => new()).TrySetResult();
            return new RenditionsPackaged(command.JobId, command.Attempt, command.OutputPrefix, "master.m3u8", "manifest.mpd");
        }
        var args = new List<string> { "-progress", "pipe:1", "-nostats", "-re", "-f", "lavfi" };
        HardenedInput.AddTo(args, "testsrc=size=160x120:rate=10:duration=600");
        args.AddRange(["-f", "null", "-"]);
        await runner.RunFfmpegAsync(args, _ => FfmpegRunning.GetOrAdd(command.JobId, _ => new()).TrySetResult(), null, cancellationToken);
        throw new InvalidOperationException("the ten-minute ffmpeg ended early");
    }
}

/// <summary>Every StageFailed a host publishes.</summary>
public sealed class StageFailures : IPublishObserver
{
    public static readonly ConcurrentQueue<StageFailed> Seen = new();

    public Task PrePublish<T>(PublishContext<T> context) where T : class
    {
        if (context.Message is StageFailed failed) Seen.Enqueue(failed);
        return Task.CompletedTask;
    }

    public Task PostPublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;

    public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
}

/// <summary>A stage node stopped (SIGTERM) while its ffmpeg runs, on the real RabbitMQ in a virtual host of its own.</summary>
[Collection(MediaCollection.Name)]
public sealed class GracefulStopTests(TestMedia media) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static readonly HttpClient Management = new()
    {
        BaseAddress = new Uri("http://127.0.0.1:15672"),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("guest:guest"))) },
    };

    private readonly string _vhost = "vidline-stop-" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        (await Management.PutAsync($"/api/vhosts/{_vhost}", JsonContent.Create(new { }))).EnsureSuccessStatusCode();
        (await Management.PutAsync($"/api/permissions/{_vhost}/guest", JsonContent.Create(new { configure = ".*", write = ".*", read = ".*" })))
            .EnsureSuccessStatusCode();
    }

    public Task DisposeAsync() => Management.DeleteAsync($"/api/vhosts/{_vhost}");

    private IHost Node(string name)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RabbitMq:Host"] = "127.0.0.1",
            ["RabbitMq:VirtualHost"] = _vhost,
            ["StageWork:StopTimeout"] = "00:00:10",
        });
        builder.Services.AddSingleton(new ServiceIdentity("packager", "test", name));
        builder.Services.Configure<StorageOptions>(o => o.Root = media.NewWorkDirectory("storage"));
        builder.Services.AddSingleton<IMediaStore, FileSystemMediaStore>();
        builder.Services.AddSingleton(media.Runner);
        builder.Services.AddPublishObserver<StageFailures>();
        builder.AddStageWorker();
        builder.AddVidlineBus(x => x.AddStageConsumer<SlowOnFirstNode>(builder.Configuration));
        return builder.Build();
    }

    [Fact]
    public async Task A_stopping_node_kills_its_ffmpeg_reports_nothing_and_returns_the_message_to_the_queue()
    {
        var job = Guid.NewGuid();
        using var first = Node("node-1");
        // As ingest-api does: the queue exists before the command is sent, whenever the consumer's endpoint is ready.
        await StageQueueTopology.DeclareAsync(first.Services.GetRequiredService<IConfiguration>());
        await first.StartAsync();
        var commands = await first.Services.GetRequiredService<IBus>().GetSendEndpoint(StageQueueTopology.AddressOf(Stages.Packaging));
        await commands.Send(new PackageRenditions(job, 1, 3, [], $"work/{job:N}/package/attempt-3"));
        await SlowOnFirstNode.FfmpegRunning.GetOrAdd(job, _ => new()).Task.WaitAsync(Patience);
        Assert.Single(ChildProcesses.Ffmpeg());

        await first.StopAsync(); // what SIGTERM does

        Assert.Empty(ChildProcesses.Ffmpeg());
        Assert.DoesNotContain(StageFailures.Seen, f => f.JobId == job);
        using var second = Node("node-2");
        await second.StartAsync();
        try
        {
            await SlowOnFirstNode.TakenByAnotherNode.GetOrAdd(job, _ => new()).Task.WaitAsync(Patience);
        }
        finally
        {
            await second.StopAsync();
        }
        Assert.DoesNotContain(StageFailures.Seen, f => f.JobId == job);
    }
}
