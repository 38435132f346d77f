using System.Diagnostics;
using System.Net;
using Vidline.Contracts;
using Xunit.Abstractions;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// Issue 10's faults, struck at real processes mid-job: kill -9 of each service, a RabbitMQ and a PostgreSQL
/// restart, SIGTERM of a busy transcoder, one of two transcoders dying, a frozen ffmpeg, a full disk. After each,
/// the same promises are checked: the job completes, an SSE client that reconnects with Last-Event-ID saw every
/// event once, one `done` per run and progress that never went back, no ffmpeg and no partial file is left, and
/// no message sits in an `_error` queue. Every broken promise is listed, not just the first. Recovery times
/// (strike → completed) go to the test output for docs/reliability.md; they are measured, never asserted.
/// </summary>
public class FaultTests(FaultFixture world, ITestOutputHelper output) : IClassFixture<FaultFixture>, IAsyncLifetime
{
    /// <summary>How long a job may take to recover: stall timeout (8 s here) + a new attempt + the rest, with room for a busy machine.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    /// <summary>The services' StageWork:StopTimeout in the harness (Pipeline): a node must be gone this long after SIGTERM.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The watchdog's setting (StageWork:SilenceTimeout): ffmpeg silent this long is hung.</summary>
    private const string SilenceTimeout = "00:00:04";

    /// <summary>How long the broker stays down in its restart: progress published meanwhile must wait, not vanish.</summary>
    private static readonly TimeSpan BrokerOutage = TimeSpan.FromSeconds(5);

    /// <summary>Longer than the services' in-process retries last (about 10 s): events must wait in RabbitMQ, not reach `_error`.</summary>
    private static readonly TimeSpan DatabaseOutage = TimeSpan.FromSeconds(15);

    private Pipeline Pipeline => world.Pipeline;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Whatever a test left broken (it may have failed halfway through a fault), the next one starts on a whole system.</summary>
    public async Task DisposeAsync()
    {
        await world.Broker.EnsureRunningAsync();
        await world.Database.EnsureRunningAsync();
        await Pipeline.RestoreAsync();
        // A test's dead letters are its own finding; they must not count against the tests after it.
        foreach (var queue in ErrorQueues(await world.Broker.QueuesAsync(Pipeline.VirtualHost)))
            await world.Broker.PurgeAsync(Pipeline.VirtualHost, queue.Key);
    }

    [Fact]
    public Task Kill_9_of_ingest_api_mid_transcode() => CrashAndRestartAsync("ingest-api", job => job.Witness.WaitForAsync(MidTranscode, Patience));

    /// <summary>Struck once a few segments are complete (30% of the 10 s clip is past the first 2 s segment): the restarted transcode goes on after them.</summary>
    [Fact]
    public Task Kill_9_of_the_transcoder_mid_encode() => CrashAndRestartAsync("transcoder",
        job => job.Witness.WaitForAsync(InStage(Stages.Transcoding, atLeast: 30), Patience), runsFfmpeg: true, more: ResumedTranscode);

    [Fact]
    public Task Kill_9_of_the_validator_during_validation() => CrashAndRestartAsync("validator", job => PinFfmpegAsync(job, "validator"), runsFfmpeg: true);

    /// <summary>
    /// Packaging runs no ffmpeg and takes milliseconds (it links the transcoder's segments and writes manifests), so no
    /// strike can be timed to land inside its work. What can be guaranteed: the packager is struck holding the job's
    /// packaging command, before its work began (see <see cref="FreezeUntilPackagingIsDueAsync"/>).
    /// </summary>
    [Fact]
    public Task Kill_9_of_the_packager_holding_the_packaging_command() => CrashAndRestartAsync("packager", FreezeUntilPackagingIsDueAsync);

    [Fact]
    public Task Kill_9_of_the_progress_gateway_mid_transcode() => CrashAndRestartAsync("progress-gateway", job => job.Witness.WaitForAsync(MidTranscode, Patience));

    [Fact]
    public Task RabbitMq_restart_mid_transcode() => ServerRestartMidTranscodeAsync(
        () => world.Broker.RestartAsync(BrokerOutage), $"RabbitMQ restart ({BrokerOutage.TotalSeconds} s down) mid-transcode");

    [Fact]
    public Task PostgreSql_restart_mid_transcode() => ServerRestartMidTranscodeAsync(
        () => world.Database.RestartAsync(DatabaseOutage), $"PostgreSQL restart ({DatabaseOutage.TotalSeconds} s down) mid-transcode");

    [Fact]
    public async Task Sigterm_of_a_busy_transcoder_returns_its_job_and_leaves_no_ffmpeg()
    {
        // A slow preset keeps the encode going well past the stop timeout: finishing the job is not an option,
        // the transcoder has to give it back. Its next start has the usual, fast settings.
        await Pipeline.RestartAsync("transcoder", new Dictionary<string, string> { ["Media__Ladder__Preset"] = "medium" });
        await using var job = await SubmitAsync();
        await job.Witness.WaitForAsync(MidTranscode, Patience);
        var transcoder = Pipeline["transcoder"];
        var ffmpeg = Pipeline.FfmpegProcessesOf(job.Id);
        var strike = Stopwatch.StartNew();
        transcoder.Send(UnixSignal.Term);
        if (await transcoder.WaitForExitAsync(StopTimeout))
            output.WriteLine($"the transcoder exited {strike.Elapsed.TotalSeconds:0.0} s after SIGTERM");
        else
        {
            job.Findings.Add($"the transcoder did not exit within its stop timeout ({StopTimeout.TotalSeconds} s) after SIGTERM; killed, as the scripts would");
            transcoder.Send(UnixSignal.Kill);
            await transcoder.WaitForExitAsync(StopTimeout);
        }
        job.Findings.AddRange(await OutlivedAsync(ffmpeg, "the transcoder that got SIGTERM"));
        await transcoder.StartAsync();
        await AssertRecoveredAsync(job, strike, "SIGTERM of a busy transcoder, then start");
    }

    [Fact]
    public async Task Two_transcoders_one_killed_mid_encode_the_other_finishes()
    {
        var second = await Pipeline.StartAnotherAsync("transcoder");
        try
        {
            await using var job = await SubmitAsync();
            await job.Witness.WaitForAsync(MidTranscode, Patience);
            var ffmpeg = Pipeline.FfmpegProcessesOf(job.Id);
            var working = new[] { Pipeline["transcoder"], second }.Single(node => ffmpeg.Any(pid => UnixSignals.ParentOf(pid) == node.Pid));
            var strike = Stopwatch.StartNew();
            working.Send(UnixSignal.Kill);
            await working.WaitForExitAsync(StopTimeout);
            job.Findings.AddRange(await OutlivedAsync(ffmpeg, $"{working.Name}, killed"));
            // The killed node stays down until the job is done: the other one has to finish it.
            await AssertRecoveredAsync(job, strike, $"kill -9 of {working.Name}, one of two transcoders");
        }
        finally
        {
            second.Kill();
        }
    }

    [Fact]
    public async Task A_frozen_ffmpeg_is_killed_by_the_watchdog_and_its_attempt_retried()
    {
        await Pipeline.RestartAsync("transcoder", new Dictionary<string, string> { ["StageWork__SilenceTimeout"] = SilenceTimeout });
        IReadOnlyList<int> frozen = [];
        try
        {
            await using var job = await SubmitAsync();
            await job.Witness.WaitForAsync(MidTranscode, Patience);
            frozen = Pipeline.FfmpegProcessesOf(job.Id);
            var strike = Stopwatch.StartNew();
            foreach (var pid in frozen) UnixSignals.Send(pid, UnixSignal.Stop);
            await AssertRecoveredAsync(job, strike, $"SIGSTOP of ffmpeg mid-transcode (silence timeout {SilenceTimeout})",
                () => frozen.Where(UnixSignals.IsAlive).Select(pid => $"the frozen ffmpeg {pid} is still there: the watchdog never killed it"));
        }
        finally
        {
            foreach (var pid in frozen) UnixSignals.Send(pid, UnixSignal.Kill);
        }
    }

    [Fact]
    public async Task A_full_disk_fails_the_job_with_the_reason_and_a_retry_completes_it_once_space_is_back()
    {
        var filler = Path.Combine(Pipeline.StorageRoot, "filler");
        try
        {
            await using var job = await SubmitAsync(runs: 2);
            await job.Witness.WaitForAsync(MidTranscode, Patience);
            var strike = Stopwatch.StartNew();
            var filled = await FillAsync(filler);
            output.WriteLine($"filled the storage volume with {filled / (1 << 20)} MB");

            var failed = await Pipeline.WaitForStatusAsync(job.Id, JobStatuses.Failed, Patience);
            output.WriteLine($"failed {strike.Elapsed.TotalSeconds:0.0} s after the disk filled: {failed.GetProperty("error_message")}");
            var reason = failed.GetProperty("error_message").GetString() ?? "";
            if (!new[] { "disk", "space" }.Any(word => reason.Contains(word, StringComparison.OrdinalIgnoreCase)))
                job.Findings.Add($"the failed job's reason does not say the disk is full: \"{reason}\"");

            File.Delete(filler);
            var retried = Stopwatch.StartNew();
            var retry = await Pipeline.Edge.PostAsync($"/jobs/{job.Id}/retry", null);
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
            await AssertRecoveredAsync(job, retried, "retry after the full disk was freed");
        }
        finally
        {
            File.Delete(filler);
        }
    }

    [Fact]
    public async Task Kill_9_of_ingest_api_mid_upload_fails_the_job_and_leaves_no_file()
    {
        // A client that sends half of the video and then waits: the file is half-written when ingest-api dies.
        var key = $"paused-{Guid.NewGuid():N}.mp4";
        using var stalled = new CancellationTokenSource();
        var upload = UploadHalfAsync(world.Clip, key, stalled.Token);
        var jobId = await JobKeyedAsync(key);
        var folder = Path.Combine(Pipeline.StorageRoot, "uploads", jobId.ToString("N"));
        await WaitUntilAsync(() => Task.FromResult(Directory.Exists(folder) && Directory.EnumerateFiles(folder).Any(f => new FileInfo(f).Length > 0)),
            $"the upload of {jobId} never reached storage");

        var strike = Stopwatch.StartNew();
        var ingest = Pipeline["ingest-api"];
        ingest.Send(UnixSignal.Kill);
        await ingest.WaitForExitAsync(StopTimeout);
        await stalled.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => upload);
        await ingest.StartAsync();

        // Nobody can send the rest: the stall sweep fails the job, and its half of a video goes.
        var failed = await Pipeline.WaitForStatusAsync(jobId, JobStatuses.Failed, Patience);
        output.WriteLine($"recovery: kill -9 of ingest-api mid-upload: failed {strike.Elapsed.TotalSeconds:0.0} s after the strike: {failed.GetProperty("error_message")}");
        var findings = new List<string>();
        try { await WaitUntilAsync(() => Task.FromResult(!Directory.Exists(folder)), ""); }
        catch (TimeoutException) { findings.Add($"the half-written upload is still there: {string.Join(", ", Directory.EnumerateFileSystemEntries(folder))}"); }
        var errors = ErrorQueues(await world.Broker.QueuesAsync(Pipeline.VirtualHost)).ToList();
        if (errors.Count > 0) findings.Add($"messages in error queues: {string.Join(", ", errors.Select(q => $"{q.Key}: {q.Value}"))}");
        Assert.True(findings.Count == 0, $"{findings.Count} broken promise(s):\n- {string.Join("\n- ", findings)}\n\n{Pipeline.Logs()}");
    }

    // ---- the strikes

    private static readonly Func<SseEvent, bool> MidTranscode = InStage(Stages.Transcoding, atLeast: 10);

    /// <summary>A progress event of <paramref name="stage"/> at or beyond <paramref name="atLeast"/> percent of the stage.</summary>
    private static Func<SseEvent, bool> InStage(PipelineStage stage, double atLeast = 0) => e =>
        e.Type == "progress" && e.Json.GetProperty("stage").GetString() == stage.Name && e.Json.GetProperty("stage_progress").GetDouble() >= atLeast;

    /// <summary>kill -9 of the service alone (its children are left to their fate, as in a real crash), then start it again.</summary>
    private async Task CrashAndRestartAsync(string service, Func<WatchedJob, Task> strikeWhen, bool runsFfmpeg = false,
        Func<WatchedJob, IEnumerable<string>>? more = null)
    {
        await using var job = await SubmitAsync();
        await strikeWhen(job);
        var node = Pipeline[service];
        var ffmpeg = Pipeline.FfmpegProcessesOf(job.Id).Where(pid => UnixSignals.ParentOf(pid) == node.Pid).ToList();
        // A stage struck mid-stage has its ffmpeg at work: without one, "no ffmpeg outlived it" would prove nothing.
        if (runsFfmpeg && ffmpeg.Count == 0)
            job.Findings.Add($"no ffmpeg of the job was running in {service} at the strike");
        var strike = Stopwatch.StartNew();
        node.Send(UnixSignal.Kill);
        await node.WaitForExitAsync(StopTimeout);
        job.Findings.AddRange(await OutlivedAsync(ffmpeg, $"{service}, killed"));
        await node.StartAsync();
        await AssertRecoveredAsync(job, strike, $"kill -9 of {service}, then start", more is null ? null : () => more(job));
    }

    /// <summary>The transcode after the strike said it went on from the segments complete before it, above 0%.</summary>
    private static IEnumerable<string> ResumedTranscode(WatchedJob job) =>
        job.Witness.Events.Any(e => InStage(Stages.Transcoding)(e) && e.Json.GetProperty("stage_progress").GetDouble() > 0 &&
                                    e.Json.GetProperty("message").GetString()!.StartsWith("resuming after segment", StringComparison.Ordinal))
            ? []
            : ["the transcode after the strike started from zero instead of going on after the complete segments"];

    /// <summary>A server goes down and comes back (if the test fails halfway, DisposeAsync brings it back).</summary>
    private async Task ServerRestartMidTranscodeAsync(Func<Task> restart, string fault)
    {
        await using var job = await SubmitAsync();
        await job.Witness.WaitForAsync(MidTranscode, Patience);
        var strike = Stopwatch.StartNew();
        await restart();
        await AssertRecoveredAsync(job, strike, fault);
    }

    /// <summary>
    /// Waits until <paramref name="service"/> runs an ffmpeg for the job and freezes it (SIGSTOP), so the strike
    /// lands mid-stage even where the stage's work takes a fraction of a second (validating a short clip). A frozen
    /// child dies with its parent as surely as a running one, so the promise checked is the same.
    /// </summary>
    private async Task PinFfmpegAsync(WatchedJob job, string service)
    {
        var node = Pipeline[service];
        var deadline = DateTime.UtcNow + Patience;
        var marker = job.Id.ToString("N");
        while (DateTime.UtcNow < deadline)
        {
            var ffmpeg = UnixSignals.ChildrenOf(node.Pid ?? 0).Where(pid => UnixSignals.CommandLineOf(pid) is var c && Path.GetFileName(c.Split(' ')[0]) == "ffmpeg" && c.Contains(marker)).ToList();
            if (ffmpeg.Count > 0)
            {
                foreach (var pid in ffmpeg) UnixSignals.Send(pid, UnixSignal.Stop);
                return;
            }
            await Task.Delay(10);
        }
        throw new TimeoutException($"{service} never ran ffmpeg for job {job.Id}:\n{job.Witness.Trace()}\n{Pipeline.Logs()}");
    }

    /// <summary>
    /// Freezes the packager (SIGSTOP) mid-transcode, before the job can reach packaging, then waits until the packaging
    /// command is in its queue or delivered to it (RabbitMQ counts both): the strike that follows lands while the packager
    /// holds work it has not finished, whatever the machine's speed. Records a finding if packaging had begun anyway.
    /// </summary>
    private async Task FreezeUntilPackagingIsDueAsync(WatchedJob job)
    {
        await job.Witness.WaitForAsync(MidTranscode, Patience);
        var node = Pipeline["packager"];
        UnixSignals.Send(node.Pid ?? throw new InvalidOperationException("the packager is not running"), UnixSignal.Stop);
        var deadline = DateTime.UtcNow + Patience;
        while ((await world.Broker.QueuesAsync(Pipeline.VirtualHost)).GetValueOrDefault(Stages.Packaging.Queue) == 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the packaging command never reached its queue:\n{job.Witness.Trace()}\n{Pipeline.Logs()}");
            await Task.Delay(100);
        }
        if (job.Witness.Events.Any(InStage(Stages.Packaging)))
            job.Findings.Add("packaging had begun before the packager was frozen: the strike did not land where the test says");
    }

    /// <summary>Writes zeros until the volume is full; returns how much it took.</summary>
    private static async Task<long> FillAsync(string path)
    {
        var chunk = new byte[4 << 20];
        long written = 0;
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        try
        {
            while (true)
            {
                await file.WriteAsync(chunk);
                await file.FlushAsync();
                written += chunk.Length;
            }
        }
        catch (IOException) { } // ENOSPC: full
        return written;
    }

    /// <summary>POST /process through the edge with the key first and then a video that stops halfway until cancelled.</summary>
    private Task<HttpResponseMessage> UploadHalfAsync(string path, string key, CancellationToken cancellationToken)
    {
        var form = new MultipartFormDataContent { { new StringContent(key), "key" } };
        var video = new StreamContent(new HalfThenWait(File.OpenRead(path), cancellationToken));
        video.Headers.ContentType = new("video/mp4");
        form.Add(video, "video", key);
        return Pipeline.Edge.PostAsync("/process", form, cancellationToken);
    }

    /// <summary>The id of the job whose key is <paramref name="key"/>, once the gateway lists it.</summary>
    private async Task<Guid> JobKeyedAsync(string key)
    {
        Guid? id = null;
        await WaitUntilAsync(async () =>
        {
            using var page = System.Text.Json.JsonDocument.Parse(await Pipeline.Edge.GetStringAsync("/jobs"));
            id = page.RootElement.GetProperty("items").EnumerateArray()
                .Where(job => job.GetProperty("key").GetString() == key).Select(job => (Guid?)job.GetProperty("id").GetGuid()).FirstOrDefault();
            return id is not null;
        }, $"no job with key {key} appeared");
        return id!.Value;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        for (var deadline = DateTime.UtcNow + Patience; DateTime.UtcNow < deadline; await Task.Delay(100))
            if (await condition()) return;
        throw new TimeoutException(failure);
    }

    /// <summary>A file that reads up to its middle, then blocks until cancelled: a client that stopped sending.</summary>
    private sealed class HalfThenWait(FileStream file, CancellationToken stalled) : Stream
    {
        private readonly long _half = file.Length / 2;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (file.Position >= _half)
            {
                using var either = CancellationTokenSource.CreateLinkedTokenSource(stalled, cancellationToken);
                await Task.Delay(Timeout.Infinite, either.Token);
            }
            return await file.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _half - file.Position)], cancellationToken);
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override bool CanRead => true;
        public override bool CanSeek => true; // so the request carries the whole length, and nginx passes it on unbuffered
        public override bool CanWrite => false;
        public override long Length => file.Length;
        public override long Position { get => file.Position; set => file.Position = value; }
        public override long Seek(long offset, SeekOrigin origin) => file.Seek(offset, origin);
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) file.Dispose();
            base.Dispose(disposing);
        }
    }

    // ---- the promises

    private async Task<WatchedJob> SubmitAsync(int runs = 1)
    {
        var logLengths = Pipeline.Manifest.Services.ToDictionary(s => s.Name, s => new FileInfo(Pipeline[s.Name].LogPath) is { Exists: true } log ? log.Length : 0);
        var id = await Pipeline.SubmitAsync(world.Clip);
        return new WatchedJob(id, StreamWitness.Follow(Pipeline.Edge, id, runs), logLengths);
    }

    /// <summary>ffmpeg processes that still run a moment after the service that started them went away.</summary>
    private static async Task<IEnumerable<string>> OutlivedAsync(IReadOnlyList<int> ffmpeg, string parent)
    {
        for (var i = 0; i < 20 && ffmpeg.Any(UnixSignals.IsAlive); i++) await Task.Delay(100);
        return ffmpeg.Where(UnixSignals.IsAlive).Select(pid => $"ffmpeg {pid} outlived {parent}");
    }

    private async Task AssertRecoveredAsync(WatchedJob job, Stopwatch sinceStrike, string fault, Func<IEnumerable<string>>? more = null)
    {
        var findings = job.Findings;
        try
        {
            await Pipeline.WaitForStatusAsync(job.Id, JobStatuses.Completed, Patience);
            output.WriteLine($"recovery: {fault}: completed {sinceStrike.Elapsed.TotalSeconds:0.0} s after the strike");
        }
        catch (TimeoutException)
        {
            findings.Add($"the job did not complete within {Patience.TotalSeconds} s of the strike; it is {await Pipeline.Edge.GetStringAsync($"/jobs/{job.Id}")}");
        }

        try
        {
            await job.Witness.Finished.WaitAsync(TimeSpan.FromSeconds(30));
            findings.AddRange(job.Witness.Findings(await Pipeline.StreamAsync(job.Id, TimeSpan.FromSeconds(30), lastEventId: "0")));
        }
        catch (TimeoutException e)
        {
            findings.Add($"SSE: the stream did not end with `done`: {e.Message[..Math.Min(600, e.Message.Length)]}\n{job.Witness.Trace()}");
        }
        if (more is not null) findings.AddRange(more());
        output.WriteLine(job.Witness.Summary());
        if (SendFaultsSince(job.LogLengths) is { Length: > 0 } sendFaults) output.WriteLine($"send faults logged (S-FAULT, a message that did not leave): {sendFaults}");

        var ffmpeg = Pipeline.FfmpegProcessesOf(job.Id);
        if (ffmpeg.Count > 0) findings.Add($"ffmpeg of the job still running after it ended: {string.Join(", ", ffmpeg)}");
        foreach (var pid in ffmpeg) UnixSignals.Send(pid, UnixSignal.Kill);
        findings.AddRange(LeftoversOf(job.Id));
        var errors = ErrorQueues(await world.Broker.QueuesAsync(Pipeline.VirtualHost)).ToList();
        if (errors.Count > 0) findings.Add($"messages in error queues: {string.Join(", ", errors.Select(q => $"{q.Key}: {q.Value}"))}");

        Assert.True(findings.Count == 0, $"{fault}: {findings.Count} broken promise(s):\n- {string.Join("\n- ", findings)}\n\n{Pipeline.Logs()}");
    }

    /// <summary>The `_error` queues that hold messages.</summary>
    private static IEnumerable<KeyValuePair<string, int>> ErrorQueues(IReadOnlyDictionary<string, int> queues) =>
        queues.Where(q => q.Key.EndsWith("_error") && q.Value > 0);

    /// <summary>
    /// MassTransit's S-FAULT lines per service since the job was submitted: told, not asserted (a service that
    /// buffers and resends may still see the first send fail), so the lead can tell a lost progress event from a late one.
    /// </summary>
    private string SendFaultsSince(IReadOnlyDictionary<string, long> logLengths) => string.Join(", ", logLengths
        .Select(mark =>
        {
            using var log = new FileStream(Pipeline[mark.Key].LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            log.Seek(mark.Value, SeekOrigin.Begin);
            var faults = new StreamReader(log).ReadToEnd().Split('\n').Count(line => line.Contains("S-FAULT"));
            return (Service: mark.Key, Faults: faults);
        })
        .Where(s => s.Faults > 0)
        .Select(s => $"{s.Service} {s.Faults}"));

    /// <summary>
    /// What a finished job must not leave in storage: its work folder (attempt folders live there), files being
    /// written (`*.partial`) and folders being swapped in (`*.staging`, `*.tmp`), anywhere under its keys.
    /// </summary>
    private IEnumerable<string> LeftoversOf(Guid jobId)
    {
        var root = Pipeline.StorageRoot;
        var job = jobId.ToString("N");
        if (Directory.Exists(Path.Combine(root, "work", job)))
            yield return $"work/{job} is still there: {string.Join(", ", Directory.EnumerateFileSystemEntries(Path.Combine(root, "work", job), "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(root, p)))}";
        var entries = new[] { "uploads", "outputs", "work" }
            .Select(top => Path.Combine(root, top))
            .Where(Directory.Exists)
            .SelectMany(top => Directory.EnumerateFileSystemEntries(top, job + "*"))
            .SelectMany(entry => Directory.Exists(entry) ? Directory.EnumerateFileSystemEntries(entry, "*", SearchOption.AllDirectories).Prepend(entry) : [entry]);
        foreach (var entry in entries)
        {
            var name = Path.GetFileName(entry);
            if (name.EndsWith(".partial") || name.EndsWith(".staging") || name.EndsWith(".tmp") || name.StartsWith("attempt-"))
                yield return $"partial file left: {Path.GetRelativePath(root, entry)}";
        }
    }

    /// <summary>A submitted job, its SSE witness, and the broken promises found while the fault played out.</summary>
    private sealed record WatchedJob(Guid Id, StreamWitness Witness, IReadOnlyDictionary<string, long> LogLengths) : IAsyncDisposable
    {
        public List<string> Findings { get; } = [];

        public ValueTask DisposeAsync() => Witness.DisposeAsync();
    }
}
