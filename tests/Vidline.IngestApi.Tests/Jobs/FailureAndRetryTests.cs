using Vidline.Contracts;

namespace Vidline.IngestApi.Tests.Jobs;

public class FailureAndRetryTests
{
    public static TheoryData<string> WorkingStages => [.. Stages.Worked.Select(s => s.Name)];

    [Theory, MemberData(nameof(WorkingStages))]
    public async Task A_permanent_failure_in_any_stage_fails_the_job_at_once(string stage)
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.AtStageAsync(stage);

        await h.Publish(new StageFailed(jobId, stage, h.AttemptOf(jobId), $"{stage} says no", Permanent: true));

        var job = await h.InState(jobId, m => m.Failed);
        Assert.Equal($"{stage} says no", job.ErrorMessage);
        Assert.Equal(stage, job.Stage);
        Assert.True(await h.Bus.Published.Any<JobStatusChanged>(m =>
            m.Context.Message.JobId == jobId && m.Context.Message.Status == JobStatuses.Failed && m.Context.Message.ErrorMessage == $"{stage} says no"));
    }

    [Fact]
    public async Task A_transient_failure_dispatches_the_stage_again_until_attempts_run_out()
    {
        await using var h = await JobHarness.StartAsync(maxAttempts: 2);
        var jobId = await h.TranscodingAsync();

        await h.Publish(new StageFailed(jobId, Stages.Transcoding, 1, "disk hiccup", Permanent: false));
        await WaitFor(() => h.SentCount<TranscodeVideo>(jobId, c => c.Attempt == 2) == 1);
        Assert.Equal(2, (await h.InState(jobId, Stages.Transcoding)).Attempt);

        await h.Publish(new StageFailed(jobId, Stages.Transcoding, 2, "disk hiccup", Permanent: false));
        var job = await h.InState(jobId, m => m.Failed);
        Assert.Equal("transcoding failed 2 times; last error: disk hiccup", job.ErrorMessage);
    }

    [Fact]
    public async Task Answers_to_a_superseded_attempt_are_ignored()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.TranscodingAsync();
        await h.Publish(new StageStalled(jobId, Stages.Transcoding, 1));
        await WaitFor(() => h.SentCount<TranscodeVideo>(jobId, c => c.Attempt == 2) == 1);

        // The first node was only slow, not dead: its late answer must not move the job.
        await h.Publish(new VideoTranscoded(jobId, 1, JobHarness.Renditions));
        await h.Publish(new StageFailed(jobId, Stages.Transcoding, 1, "late failure", Permanent: true));
        await h.Publish(new VideoTranscoded(jobId, 2, JobHarness.Renditions));

        await h.InState(jobId, Stages.Validation);
        Assert.Equal(1, h.SentCount<ValidateRenditions>(jobId));
    }

    [Fact]
    public async Task A_command_no_node_takes_is_dispatched_again_then_fails_saying_no_node_took_it()
    {
        await using var h = await JobHarness.StartAsync(maxAttempts: 2);
        var jobId = await h.PackagingAsync();
        var first = h.AttemptOf(jobId);

        await h.Publish(new StageStalled(jobId, Stages.Packaging, first));
        await WaitFor(() => h.SentCount<PackageRenditions>(jobId, c => c.Attempt == first + 1) == 1);
        await h.Publish(new StageStalled(jobId, Stages.Packaging, first + 1));

        var job = await h.InState(jobId, m => m.Failed);
        Assert.Equal("no packaging node took the job within 3600 s; giving up after 2 attempts", job.ErrorMessage);
    }

    [Fact]
    public async Task A_started_attempt_that_goes_silent_is_dispatched_again_then_fails_with_a_message_saying_so()
    {
        await using var h = await JobHarness.StartAsync(maxAttempts: 2);
        var jobId = await h.TranscodingAsync();
        for (var attempt = h.AttemptOf(jobId); attempt <= 2; attempt++)
        {
            await WaitFor(() => h.SentCount<TranscodeVideo>(jobId, c => c.Attempt == attempt) == 1);
            await h.Publish(new StageHeartbeat(jobId, Stages.Transcoding, attempt, DateTimeOffset.UtcNow));
            Assert.True(h.Saga.Sagas.Contains(jobId)!.AttemptStarted);
            await h.Publish(new StageStalled(jobId, Stages.Transcoding, attempt));
        }

        var job = await h.InState(jobId, m => m.Failed);
        Assert.Equal("transcoding made no progress for 30 s on each of 2 attempts; giving up", job.ErrorMessage);
    }

    [Fact]
    public async Task A_silent_upload_fails_the_job_since_nobody_can_send_it_again()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.SubmittedAsync();

        await h.Publish(new StageStalled(jobId, Stages.Uploading, h.AttemptOf(jobId)));

        var job = await h.InState(jobId, m => m.Failed);
        Assert.Equal("The upload stopped before it completed.", job.ErrorMessage);
        Assert.Equal(Stages.Uploading.Name, job.Stage);
    }

    [Fact]
    public async Task An_upload_that_arrives_after_its_job_failed_is_refused_and_starts_nothing()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.SubmittedAsync();
        await h.Publish(new StageStalled(jobId, Stages.Uploading, h.AttemptOf(jobId)));
        await h.InState(jobId, m => m.Failed);

        // The upload request hands its file over as a request and answers its client with what the saga says.
        var refused = Assert.IsType<JobCommandRefused>(await h.Ask(
            new VideoUploaded(jobId, "clip.mp4", "anonymous", 0, DateTimeOffset.UtcNow, $"uploads/{jobId:N}/source", JobHarness.Clip)));

        Assert.Contains("The upload stopped before it completed.", refused.Detail);
        Assert.Equal(0, h.SentCount<TranscodeVideo>(jobId));
        await h.InState(jobId, m => m.Failed);
    }

    [Fact]
    public async Task Retry_is_a_new_run_that_resumes_from_the_stage_that_failed_in_a_new_work_folder()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.PackagingAsync();
        var failedAttempt = h.AttemptOf(jobId);
        await h.Publish(new StageFailed(jobId, Stages.Packaging, failedAttempt, "muxer crashed", Permanent: true));
        await h.InState(jobId, m => m.Failed);

        Assert.IsType<JobCommandAccepted>(await h.Ask(new RetryJob(jobId, "anonymous")));

        var job = await h.InState(jobId, Stages.Packaging);
        Assert.Null(job.ErrorMessage);
        Assert.Equal(2, job.Run);
        Assert.Equal(failedAttempt + 1, job.Attempt); // attempts never reset
        Assert.Equal(1, h.SentCount<TranscodeVideo>(jobId));
        Assert.Equal(1, h.SentCount<ValidateRenditions>(jobId));
        await WaitFor(() => h.SentCount<PackageRenditions>(jobId) == 2);
        var commands = h.Bus.Sent.Select<PackageRenditions>().Select(m => m.Context.Message).Where(c => c.JobId == jobId).OrderBy(c => c.Attempt).ToList();
        Assert.Equal([1, 2], commands.Select(c => c.Run));
        Assert.NotEqual(commands[0].OutputPrefix, commands[1].OutputPrefix);
        Assert.True(await h.Bus.Published.Any<JobStatusChanged>(m => m.Context.Message.JobId == jobId && m.Context.Message.Run == 2));
    }

    [Fact]
    public async Task A_late_answer_from_the_failed_run_does_not_move_the_retried_job()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.ValidatingAsync();
        var oldAttempt = h.AttemptOf(jobId);
        await h.Publish(new StageFailed(jobId, Stages.Validation, oldAttempt, "gate", Permanent: true));
        await h.InState(jobId, m => m.Failed);
        await h.Publish(new RetryJob(jobId, "anonymous"));
        await h.InState(jobId, Stages.Validation);

        // The first run's node answers late: the saga waits for the new run's attempt only.
        await h.Publish(new RenditionsValidated(jobId, oldAttempt, []));
        await h.Publish(new StageFailed(jobId, Stages.Validation, oldAttempt, "late failure", Permanent: true));

        var job = await h.InState(jobId, Stages.Validation);
        Assert.Null(job.ErrorMessage);
        Assert.Equal(0, h.SentCount<PackageRenditions>(jobId));
        await h.Publish(new RenditionsValidated(jobId, h.AttemptOf(jobId), []));
        await h.InState(jobId, Stages.Packaging);
    }

    [Fact]
    public async Task Retry_of_a_job_that_is_not_failed_changes_nothing()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.ValidatingAsync();

        Assert.Equal(RefusalReasons.Conflict, await h.RefusalOf(new RetryJob(jobId, "anonymous")));
        await h.Publish(new RenditionsValidated(jobId, h.AttemptOf(jobId), []));

        await h.InState(jobId, Stages.Packaging);
        Assert.Equal(1, h.SentCount<ValidateRenditions>(jobId));
    }

    [Fact]
    public async Task A_heartbeat_from_an_attempt_of_the_current_stage_keeps_the_stall_clock_fresh_and_one_of_an_earlier_stage_does_not()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.TranscodingAsync();
        var transcodeAttempt = h.AttemptOf(jobId);
        await h.Publish(new StageStalled(jobId, Stages.Transcoding, transcodeAttempt));
        await WaitFor(() => h.SentCount<TranscodeVideo>(jobId, c => c.Attempt == transcodeAttempt + 1) == 1);

        // A node still busy with the first attempt is alive: the second command waits behind it.
        var before = h.Saga.Sagas.Contains(jobId)!.LastSeenAt;
        await Task.Delay(20);
        await h.Publish(new StageHeartbeat(jobId, Stages.Transcoding, transcodeAttempt, DateTimeOffset.UtcNow));
        Assert.True(h.Saga.Sagas.Contains(jobId)!.LastSeenAt > before);

        await h.Publish(new VideoTranscoded(jobId, h.AttemptOf(jobId), JobHarness.Renditions));
        await h.InState(jobId, Stages.Validation);
        before = h.Saga.Sagas.Contains(jobId)!.LastSeenAt;
        await Task.Delay(20);
        await h.Publish(new StageHeartbeat(jobId, Stages.Transcoding, transcodeAttempt, DateTimeOffset.UtcNow));
        Assert.Equal(before, h.Saga.Sagas.Contains(jobId)!.LastSeenAt);

        await h.Publish(new StageHeartbeat(jobId, Stages.Validation, h.AttemptOf(jobId), DateTimeOffset.UtcNow));
        Assert.True(h.Saga.Sagas.Contains(jobId)!.LastSeenAt > before);
    }

    internal static async Task WaitFor(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++) await Task.Delay(50);
        Assert.True(condition(), "condition not met within 5 s");
    }
}
