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
        await h.InState(jobId, m => m.Transcoding);
        await h.Publish(new VideoTranscoded(jobId, 1, JobHarness.Renditions));
        await h.Publish(new VideoTranscoded(jobId, 1, JobHarness.Renditions));
        await h.InState(jobId, m => m.Validating);
        await h.Publish(new RenditionsValidated(jobId, 1, []));
        await h.Publish(new RenditionsValidated(jobId, 1, []));
        await h.InState(jobId, m => m.Packaging);
        await h.Publish(new RenditionsPackaged(jobId, 1, "p", "master.m3u8", "manifest.mpd"));
        await h.Publish(new RenditionsPackaged(jobId, 1, "p", "master.m3u8", "manifest.mpd"));
        await h.InState(jobId, m => m.Storing);
        await h.Publish(new OutputsStored(jobId, 1, "/a", "/b"));
        await h.Publish(new OutputsStored(jobId, 1, "/a", "/b"));
        await h.InState(jobId, m => m.Completed);
        await h.Publish(new JobSubmitted(jobId, "clip.mp4", "anonymous", 0, DateTimeOffset.UtcNow));
        await Task.Delay(200);

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
        await Task.Delay(200);

        Assert.Equal(2, h.SentCount<TranscodeVideo>(jobId));
    }
}
