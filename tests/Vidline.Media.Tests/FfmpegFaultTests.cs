using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Vidline.Contracts;
using Vidline.StageWorker;

namespace Vidline.Media.Tests;

/// <summary>
/// What the machine can do to a running ffmpeg (the OOM killer, a full disk, a freeze, its service killed) and
/// what the stage makes of it, with real ffmpeg processes.
/// </summary>
[Collection(MediaCollection.Name)]
public class FfmpegFaultTests(TestMedia media)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>An ffmpeg that would run for ten minutes at real-time speed, reporting progress.</summary>
    private static List<string> EndlessArguments()
    {
        var args = new List<string> { "-progress", "pipe:1", "-nostats", "-re", "-f", "lavfi" };
        HardenedInput.AddTo(args, "testsrc=size=160x120:rate=10:duration=600");
        args.AddRange(["-f", "null", "-"]);
        return args;
    }

    /// <summary>Starts the endless ffmpeg and returns its run and process id once it reports progress.</summary>
    private async Task<(Task<FfmpegResult> Run, int Pid)> StartEndlessAsync(Action<string>? onLine = null, CancellationToken cancellationToken = default)
    {
        var reporting = new TaskCompletionSource();
        var run = media.Runner.RunFfmpegAsync(EndlessArguments(), line => { reporting.TrySetResult(); onLine?.Invoke(line); }, null, cancellationToken);
        await reporting.Task.WaitAsync(Patience);
        return (run, Assert.Single(ChildProcesses.Ffmpeg()));
    }

    [Fact]
    public async Task An_ffmpeg_killed_from_outside_fails_the_attempt_as_transient()
    {
        var (run, pid) = await StartEndlessAsync();

        ChildProcesses.Signal(pid, "KILL"); // what the kernel's OOM killer does
        var e = await Assert.ThrowsAsync<FfmpegException>(() => run);

        Assert.True(e.KilledFromOutside);
        Assert.Equal(new FailureVerdict("ffmpeg was killed (out of memory?)", Permanent: false), FailureVerdict.Of(e));
    }

    [Fact]
    public async Task An_ffmpeg_we_cancel_is_a_cancellation_not_a_fault()
    {
        using var cancel = new CancellationTokenSource();
        var (run, _) = await StartEndlessAsync(cancellationToken: cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public async Task A_full_disk_under_ffmpeg_fails_the_attempt_as_transient()
    {
        await using var disk = await SmallDisk.MountAsync(media.NewWorkDirectory("full-disk"));
        var args = new List<string> { "-f", "lavfi" };
        HardenedInput.AddTo(args, "testsrc=size=640x360:rate=25:duration=10");
        args.AddRange(["-f", "rawvideo", Path.Combine(disk.Path, "frames.yuv")]); // ~350 KB a frame: 2 MB fill at once

        var e = await Assert.ThrowsAsync<FfmpegException>(() => media.Runner.RunFfmpegAsync(args));

        Assert.True(e.DiskFull, e.Summary);
        Assert.Equal(new FailureVerdict("the disk is full", Permanent: false), FailureVerdict.Of(e));
    }

    [Fact]
    public async Task A_full_disk_under_our_own_writes_fails_the_attempt_as_transient()
    {
        await using var disk = await SmallDisk.MountAsync(media.NewWorkDirectory("full-disk"));

        var e = await Assert.ThrowsAnyAsync<IOException>(() => File.WriteAllBytesAsync(Path.Combine(disk.Path, "big"), new byte[3 << 20]));

        Assert.Equal(new FailureVerdict("the disk is full", Permanent: false), FailureVerdict.Of(e));
    }

    [Fact]
    public async Task A_frozen_ffmpeg_is_killed_by_the_watchdog_and_the_attempt_fails_as_transient()
    {
        var outbox = new ProgressOutbox(RecordingPublisher.Create().Endpoint, NullLogger<ProgressOutbox>.Instance);
        var limits = new WatchLimits(TimeSpan.FromMilliseconds(200), SilenceTimeout: TimeSpan.FromSeconds(2), TimeSpan.MaxValue, "none");
        await using var watchdog = new AttemptWatchdog(outbox, new StageHeartbeat(Guid.NewGuid(), "transcoding", 1, default), limits,
            NullLogger.Instance, CancellationToken.None);
        var parser = new FfmpegProgressParser();
        var (run, pid) = await StartEndlessAsync(line =>
        {
            if (parser.Feed(line) is { OutTime: not null }) watchdog.Advanced();
        }, watchdog.Token);

        ChildProcesses.Signal(pid, "STOP");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal("ffmpeg made no progress for 2 s", watchdog.Verdict);
        Assert.False(ChildProcesses.IsAlive(pid), $"the frozen ffmpeg {pid} was left behind");
    }

    [Fact]
    public async Task An_ffmpeg_outlives_the_thread_that_started_it_but_not_its_service_killed_with_sigkill()
    {
        // The parent starts ffmpeg from a thread that exits, and says whether ffmpeg kept running after it.
        // tests/Vidline.Media.Tests/bin/<configuration>/net10.0 -> tests/FfmpegParent/bin/<configuration>/net10.0
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var configuration = output.Parent!;
        var parentDll = Path.Combine(configuration.Parent!.Parent!.Parent!.FullName, "FfmpegParent", "bin", configuration.Name, output.Name,
            "FfmpegParent.dll");
        var start = new ProcessStartInfo("dotnet", ["exec", parentDll]) { RedirectStandardOutput = true };
        using var parent = Process.Start(start)!;
        try
        {
            Assert.Equal("ffmpeg running", await parent.StandardOutput.ReadLineAsync().WaitAsync(Patience));
            var ffmpeg = Assert.Single(ChildProcesses.FfmpegOf(parent.Id));

            ChildProcesses.Signal(parent.Id, "KILL");
            await parent.WaitForExitAsync();

            Assert.True(await ChildProcesses.EventuallyAsync(() => !ChildProcesses.IsAlive(ffmpeg), TimeSpan.FromSeconds(5)),
                $"ffmpeg {ffmpeg} outlived its killed parent");
        }
        finally
        {
            if (!parent.HasExited) parent.Kill(entireProcessTree: true);
        }
    }
}

/// <summary>A 2 MB tmpfs mounted for one test (the tests run as root), unmounted when disposed.</summary>
internal sealed class SmallDisk : IAsyncDisposable
{
    public string Path { get; }

    private SmallDisk(string path) => Path = path;

    public static async Task<SmallDisk> MountAsync(string path)
    {
        await RunAsync("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", path);
        return new SmallDisk(path);
    }

    public ValueTask DisposeAsync() => new(RunAsync("umount", Path));

    private static async Task RunAsync(string tool, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(tool, args) { RedirectStandardError = true })!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{tool} {string.Join(' ', args)}: {error}");
    }
}
