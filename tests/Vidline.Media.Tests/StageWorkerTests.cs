using Microsoft.Extensions.Logging.Abstractions;
using Vidline.Contracts;
using Vidline.StageWorker;

namespace Vidline.Media.Tests;

public class AttemptPulseTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private static readonly WatchLimits Limits = new(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(10), "rule");

    private static DateTimeOffset At(double seconds) => Start.AddSeconds(seconds);

    [Fact]
    public void Beats_once_per_interval_while_the_work_advances()
    {
        var pulse = new AttemptPulse(Limits, "transcoding", Start);

        pulse.Advanced(At(5));
        Assert.Equal((false, null), pulse.Check(At(10)));    // advanced, but the interval has not passed
        Assert.Equal((true, null), pulse.Check(At(15)));
        Assert.Equal((false, null), pulse.Check(At(30)));    // nothing advanced since that beat
        pulse.Advanced(At(31));
        Assert.Equal((true, null), pulse.Check(At(32)));
    }

    [Fact]
    public void A_silent_attempt_stops_beating_and_is_stopped_after_the_silence_timeout()
    {
        var pulse = new AttemptPulse(Limits, "transcoding", Start);
        pulse.Advanced(At(1));
        Assert.True(pulse.Check(At(16)).Beat);

        Assert.Equal((false, null), pulse.Check(At(40)));
        Assert.Equal((false, null), pulse.Check(At(60.9)));
        Assert.Equal((false, "ffmpeg made no progress for 60 s"), pulse.Check(At(61)));
    }

    [Fact]
    public void An_attempt_that_advances_is_still_stopped_at_its_deadline()
    {
        var limits = WatchLimits.For(new StageWorkOptions { DeadlineFactor = 3, DeadlineFloor = TimeSpan.FromSeconds(30) }, mediaSeconds: 10);
        var pulse = new AttemptPulse(limits, "validation", Start);
        for (var s = 0; s < 60; s += 5) pulse.Advanced(At(s));

        Assert.Equal(TimeSpan.FromSeconds(60), limits.Deadline);
        Assert.Equal((false, "validation ran past its deadline of 60 s (3× the media's duration + 30 s)"), pulse.Check(At(60)));
    }

    [Fact]
    public void While_alive_limits_beat_without_advancing_and_never_stop_the_work()
    {
        var pulse = new AttemptPulse(WatchLimits.WhileAlive(TimeSpan.FromSeconds(15)), "uploading", Start);

        Assert.Equal((false, null), pulse.Check(At(10)));
        Assert.Equal((true, null), pulse.Check(At(15)));
        Assert.Equal((true, null), pulse.Check(At(3600 * 24 * 365)));
    }
}

public class StageProgressAdvanceTests
{
    [Fact]
    public async Task Only_forward_moves_and_forced_reports_count_as_advancing()
    {
        var advances = 0;
        var outbox = new ProgressOutbox(RecordingPublisher.Create().Endpoint, NullLogger<ProgressOutbox>.Instance);
        var progress = new StageProgress(outbox, Guid.NewGuid(), 1, "transcoding", TimeSpan.Zero, onAdvance: () => advances++);

        await progress.ReportAsync(0, "started", force: true);
        await progress.ReportAsync(10, "a");
        await progress.ReportAsync(10, "the same figure again");
        await progress.ReportAsync(9, "backwards");
        await progress.ReportAsync(10.5, "b");

        Assert.Equal(3, advances);
    }
}

public class ProgressOutboxTests
{
    private static ProgressReported Progress(Guid job, double percent) =>
        new(Guid.NewGuid(), job, 1, "transcoding", percent, $"{percent}%", DateTimeOffset.UtcNow);

    private static WarningReported Warning(Guid job, string text) => new(Guid.NewGuid(), job, 1, "transcoding", text, DateTimeOffset.UtcNow);

    [Fact]
    public async Task While_the_broker_is_down_the_newest_progress_of_each_job_and_every_warning_wait_and_then_go_out()
    {
        var (endpoint, broker) = RecordingPublisher.Create();
        var outbox = new ProgressOutbox(endpoint, NullLogger<ProgressOutbox>.Instance);
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        broker.BrokerDown = true;

        outbox.Post(Progress(a, 10));
        outbox.Post(Warning(a, "no audio"));
        outbox.Post(Progress(a, 20));
        outbox.Post(Progress(b, 5));
        outbox.Post(Warning(b, "interlaced"));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => outbox.SendPendingAsync(CancellationToken.None));
        outbox.Post(Progress(a, 30));
        Assert.Equal(4, outbox.Pending);

        broker.BrokerDown = false;
        await outbox.SendPendingAsync(CancellationToken.None);

        Assert.Equal(0, outbox.Pending);
        var sent = broker.Published.ToList();
        Assert.Equal(["no audio", "interlaced"], sent.OfType<WarningReported>().Select(w => w.Message));
        Assert.Equal([(a, 30.0), (b, 5.0)], sent.OfType<ProgressReported>().Select(p => (p.JobId, p.Progress)).OrderBy(p => p.Item2 == 5));
    }

    [Fact]
    public async Task Step_reports_all_go_out_in_order_and_routine_ones_never_overtake_them()
    {
        var (endpoint, broker) = RecordingPublisher.Create();
        var outbox = new ProgressOutbox(endpoint, NullLogger<ProgressOutbox>.Instance);
        var job = Guid.NewGuid();

        outbox.Post(Progress(job, 0) with { Message = "transcoding started" }, routine: false);
        outbox.Post(Progress(job, 0) with { Message = "encoding 720p" }, routine: false);
        outbox.Post(Progress(job, 5));
        outbox.Post(Progress(job, 10));
        outbox.Post(Progress(job, 100) with { Message = "encoded" }, routine: false);
        outbox.Post(Progress(job, 100));
        await outbox.SendPendingAsync(CancellationToken.None);

        Assert.Equal(["transcoding started", "encoding 720p", "encoded", "100%"],
            broker.Published.OfType<ProgressReported>().Select(p => p.Message));
    }

    [Fact]
    public void Warnings_waiting_for_the_broker_are_bounded()
    {
        var outbox = new ProgressOutbox(RecordingPublisher.Create().Endpoint, NullLogger<ProgressOutbox>.Instance);
        var job = Guid.NewGuid();

        for (var i = 0; i < ProgressOutbox.KeptLimit + 50; i++) outbox.Post(Warning(job, $"warning {i}"));

        Assert.Equal(ProgressOutbox.KeptLimit, outbox.Pending);
    }

    [Fact]
    public async Task The_sender_delivers_what_waited_once_the_broker_is_back()
    {
        var (endpoint, broker) = RecordingPublisher.Create();
        var outbox = new ProgressOutbox(endpoint, NullLogger<ProgressOutbox>.Instance);
        var job = Guid.NewGuid();
        broker.BrokerDown = true;
        await outbox.StartAsync(CancellationToken.None);
        try
        {
            outbox.Post(Progress(job, 42));
            Assert.True(await ChildProcesses.EventuallyAsync(() => outbox.Pending == 1, TimeSpan.FromSeconds(5)));

            broker.BrokerDown = false;

            Assert.True(await ChildProcesses.EventuallyAsync(() => outbox.Pending == 0, TimeSpan.FromSeconds(30)));
            Assert.Equal(42, Assert.Single(broker.Published.OfType<ProgressReported>()).Progress);
        }
        finally
        {
            await outbox.StopAsync(CancellationToken.None);
        }
    }
}

public class FailureVerdictTests
{
    [Fact]
    public void Faults_of_the_input_are_permanent_and_faults_of_the_machine_transient()
    {
        Assert.True(FailureVerdict.Of(new UnusableMediaException("not a video"))!.Permanent);
        Assert.True(FailureVerdict.Of(new PermanentStageFailure("quality too low"))!.Permanent);
        Assert.Equal(new FailureVerdict("ffmpeg could not process the video: moov atom not found", true),
            FailureVerdict.Of(new FfmpegException("ffmpeg", 1, "moov atom not found", ["moov atom not found"])));
        Assert.Equal(new FailureVerdict("the disk is full", false),
            FailureVerdict.Of(new FfmpegException("ffmpeg", 1, "x", ["av_interleaved_write_frame(): No space left on device"])));
        Assert.Equal(new FailureVerdict("the disk is full", false), FailureVerdict.Of(new IOException("No space left on device", 28)));
        Assert.Null(FailureVerdict.Of(new IOException("Stale file handle", 116)));
        Assert.Null(FailureVerdict.Of(new InvalidOperationException()));
        Assert.Equal(new FailureVerdict("seg-00002.m4s is cut short or malformed.", true),
            FailureVerdict.Of(new InvalidDataException("seg-00002.m4s is cut short or malformed.")));
    }

    [Fact]
    public void A_job_error_names_files_but_not_the_servers_folders()
    {
        var verdict = FailureVerdict.Unexpected("Transcoding",
            new IOException("Could not find file '/srv/vidline/storage/work/0f/renditions/attempt-2.partial/720p/seg-00003.m4s'."));

        Assert.Equal("Transcoding failed: Could not find file 'seg-00003.m4s'.", verdict.Reason);
        Assert.Equal("ratio 16/9 at http://example.org/a/b", new FailureVerdict("ratio 16/9 at http://example.org/a/b", true).Reason);
    }
}
