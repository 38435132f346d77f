using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Vidline.Contracts;
using Vidline.Media.Storage;
using Vidline.Packager;
using Vidline.ServiceDefaults;
using Vidline.StageWorker;

namespace Vidline.Media.Tests;

/// <summary>A stage whose work is counted, and fails with a full disk when asked to.</summary>
public sealed class CountingStage(StageRuntime runtime) : StageConsumer<PackageRenditions>(runtime)
{
    public static int Runs;

    protected override Task<IStageCompleted> WorkAsync(PackageRenditions command, StageProgress progress, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Runs);
        if (command.OutputPrefix == "full") throw new IOException("No space left on device", 28);
        return Task.FromResult<IStageCompleted>(new RenditionsPackaged(command.JobId, command.Attempt, command.OutputPrefix, "master.m3u8", "manifest.mpd"));
    }
}

/// <summary>Stages run on MassTransit's in-memory harness against a real folder as storage.</summary>
public sealed class IdempotentStageTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "vidline-stage-tests-" + Guid.NewGuid().ToString("N")[..8]);
    private ServiceProvider _services = null!;
    private ITestHarness _harness = null!;
    private IMediaStore Store => _services.GetRequiredService<IMediaStore>();

    public async Task InitializeAsync()
    {
        var services = new ServiceCollection().AddLogging();
        services.Configure<StorageOptions>(o => o.Root = _root);
        services.AddSingleton<IMediaStore, FileSystemMediaStore>();
        services.AddOptions<StageWorkOptions>();
        services.AddSingleton(new ServiceIdentity("packager", "test", "packager-test"));
        services.AddStageRuntime();
        services.AddMassTransitTestHarness(x =>
        {
            x.AddConsumer<StoreOutputsConsumer>();
            x.AddConsumer<CountingStage>();
        });
        _services = services.BuildServiceProvider(true);
        _harness = _services.GetRequiredService<ITestHarness>();
        await _harness.Start();
    }

    public async Task DisposeAsync()
    {
        await _harness.Stop();
        await _services.DisposeAsync();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private async Task<StoreOutputs> PackageOnDiskAsync(Guid job)
    {
        var prefix = $"{StorageKeys.Work(job)}/package/attempt-3";
        foreach (var name in (string[])["master.m3u8", "manifest.mpd", "init-stream0.m4s"])
            await Store.WriteAsync($"{prefix}/{name}", new MemoryStream("x"u8.ToArray()), null, CancellationToken.None);
        return new StoreOutputs(job, 1, 4, prefix, "master.m3u8", "manifest.mpd");
    }

    private async Task<IReadOnlyList<T>> PublishedAsync<T>(Guid job, int count) where T : class, IJobMessage
    {
        var found = new List<T>();
        await foreach (var message in _harness.Published.SelectAsync<T>(m => m.Context.Message.JobId == job))
        {
            found.Add(message.Context.Message);
            if (found.Count == count) break;
        }
        return found;
    }

    [Fact]
    public async Task Storage_publishes_outputs_by_rename_and_leaves_the_work_folder_to_its_owner()
    {
        var job = Guid.NewGuid();
        var command = await PackageOnDiskAsync(job);

        await _harness.Bus.Publish(command);
        var stored = Assert.Single(await PublishedAsync<OutputsStored>(job, 1));

        Assert.Equal($"/outputs/{job:N}/master.m3u8", stored.HlsManifestUrl);
        Assert.True(Store.Exists($"{StorageKeys.Outputs(job)}/init-stream0.m4s"));
        Assert.False(Directory.Exists(Store.PathFor(command.PackagePrefix)), "the package was copied, not moved");
        Assert.True(Store.Exists(CompletedAttempts.KeyOf(command, Stages.Storage)), "work/{job} went before OutputsStored was recorded");
    }

    [Fact]
    public async Task A_repeated_storage_command_whose_record_was_lost_answers_from_the_published_outputs()
    {
        // The node was killed after the rename and before it wrote its record and answered.
        var job = Guid.NewGuid();
        var command = await PackageOnDiskAsync(job);
        await Store.MovePrefixAsync(command.PackagePrefix, StorageKeys.Outputs(job), CancellationToken.None);

        await _harness.Bus.Publish(command);

        Assert.Equal($"/outputs/{job:N}/manifest.mpd", Assert.Single(await PublishedAsync<OutputsStored>(job, 1)).DashManifestUrl);
        Assert.False(await _harness.Published.Any<StageFailed>(m => m.Context.Message.JobId == job));
    }

    [Fact]
    public async Task A_repeated_command_finds_the_finished_attempt_and_answers_without_redoing_it()
    {
        var job = Guid.NewGuid();
        var command = new PackageRenditions(job, 1, 3, [], "prefix");
        var before = Volatile.Read(ref CountingStage.Runs);

        await _harness.Bus.Publish(command);
        var first = Assert.Single(await PublishedAsync<RenditionsPackaged>(job, 1));
        await _harness.Bus.Publish(command);
        var both = await PublishedAsync<RenditionsPackaged>(job, 2);

        Assert.Equal(2, both.Count);
        Assert.Equal(first, both[1]);
        Assert.Equal(before + 1, Volatile.Read(ref CountingStage.Runs));
    }

    [Fact]
    public async Task A_full_disk_fails_the_attempt_as_transient_with_a_clear_reason()
    {
        var job = Guid.NewGuid();

        await _harness.Bus.Publish(new PackageRenditions(job, 1, 3, [], "full"));

        var failed = Assert.Single(await PublishedAsync<StageFailed>(job, 1));
        Assert.Equal(("packaging", "the disk is full", false), (failed.Stage, failed.Reason, failed.Permanent));
    }
}
