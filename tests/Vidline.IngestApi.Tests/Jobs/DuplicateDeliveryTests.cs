using Vidline.Contracts;

namespace Vidline.IngestApi.Tests.Jobs;

public class DuplicateDeliveryTests
{
    [Fact]
    public async Task Every_stage_answer_delivered_twice_moves_the_job_once()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.SubmittedAsync();
        var uploaded = new VideoUploaded(jobId, "clip.mp4", "anonymous", 0, DateTimeOffset.UtcNow, "uploads/x/source", JobHarness.Clip);

        await h.Publish(uploaded);
        await h.Publish(uploaded);
        int attempt;
        await h.InState(jobId, Stages.Transcoding);
        attempt = h.AttemptOf(jobId);
        await h.Publish(new VideoTranscoded(jobId, attempt, JobHarness.Renditions));
        await h.Publish(new VideoTranscoded(jobId, attempt, JobHarness.Renditions));
        await h.InState(jobId, Stages.Validation);
        attempt = h.AttemptOf(jobId);
        await h.Publish(new RenditionsValidated(jobId, attempt, []));
        await h.Publish(new RenditionsValidated(jobId, attempt, []));
        await h.InState(jobId, Stages.Packaging);
        attempt = h.AttemptOf(jobId);
        await h.Publish(new RenditionsPackaged(jobId, attempt, "p", "master.m3u8", "manifest.mpd"));
        await h.Publish(new RenditionsPackaged(jobId, attempt, "p", "master.m3u8", "manifest.mpd"));
        await h.InState(jobId, Stages.Storage);
        attempt = h.AttemptOf(jobId);
        await h.Publish(new OutputsStored(jobId, attempt, "/a", "/b"));
        await h.Publish(new OutputsStored(jobId, attempt, "/a", "/b"));
        await h.InState(jobId, m => m.Completed);
        await h.Publish(new JobSubmitted(jobId, "clip.mp4", "anonymous", 0, DateTimeOffset.UtcNow));

        Assert.Equal(1, h.SentCount<TranscodeVideo>(jobId));
        Assert.Equal(1, h.SentCount<ValidateRenditions>(jobId));
        Assert.Equal(1, h.SentCount<PackageRenditions>(jobId));
        Assert.Equal(1, h.SentCount<StoreOutputs>(jobId));
        Assert.Equal(1, h.PublishedCount<JobStatusChanged>(jobId, s => s.Status == JobStatuses.Completed));
        await h.InState(jobId, m => m.Completed);
    }

    [Fact]
    public async Task A_duplicate_stall_report_redispatches_once()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.TranscodingAsync();

        await h.Publish(new StageStalled(jobId, Stages.Transcoding, 1));
        await h.Publish(new StageStalled(jobId, Stages.Transcoding, 1));
        await FailureAndRetryTests.WaitFor(() => h.SentCount<TranscodeVideo>(jobId, c => c.Attempt == 2) == 1);

        Assert.Equal(2, h.SentCount<TranscodeVideo>(jobId));
    }
}
