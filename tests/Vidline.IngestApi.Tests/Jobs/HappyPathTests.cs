using MassTransit;
using Vidline.Contracts;

namespace Vidline.IngestApi.Tests.Jobs;

public class HappyPathTests
{
    [Fact]
    public async Task A_job_walks_every_stage_and_completes_with_its_result()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.StoringAsync();

        await h.Publish(new OutputsStored(jobId, h.AttemptOf(jobId), $"/outputs/{jobId:N}/master.m3u8", $"/outputs/{jobId:N}/manifest.mpd"));
        var job = await h.InState(jobId, m => m.Completed);

        Assert.Equal(1, h.SentCount<TranscodeVideo>(jobId));
        Assert.Equal(1, h.SentCount<ValidateRenditions>(jobId));
        Assert.Equal(1, h.SentCount<PackageRenditions>(jobId));
        Assert.Equal(1, h.SentCount<StoreOutputs>(jobId));
        Assert.Equal($"/outputs/{jobId:N}/master.m3u8", job.HlsManifestUrl);
        Assert.True(await h.Bus.Published.Any<JobStatusChanged>(m =>
            m.Context.Message.JobId == jobId && m.Context.Message.Status == JobStatuses.Completed &&
            m.Context.Message.Result!.HlsManifestUrl == job.HlsManifestUrl && m.Context.Message.Result.QualityScores.Count == 1));
    }

    [Fact]
    public async Task Commands_carry_everything_the_stage_node_needs()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.TranscodingAsync();

        var command = Assert.Single(h.Bus.Sent.Select<TranscodeVideo>(), m => m.Context.Message.JobId == jobId).Context.Message;
        Assert.Equal($"uploads/{jobId:N}/source", command.SourceKey);
        Assert.Equal(JobHarness.Clip, command.Source);
        Assert.Equal(1, command.Attempt);
        Assert.Equal(1, command.Run);
        Assert.Equal($"work/{jobId:N}/renditions/attempt-1", command.OutputPrefix);
    }

    [Fact]
    public async Task The_upload_can_finish_before_the_submission_is_handled()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = MassTransit.NewId.NextGuid();

        await h.Publish(new VideoUploaded(jobId, "late.mp4", "anonymous", 2, DateTimeOffset.UtcNow, "uploads/x/source", JobHarness.Clip));
        await h.InState(jobId, Stages.Transcoding);
        await h.Publish(new JobSubmitted(jobId, "late.mp4", "anonymous", 2, DateTimeOffset.UtcNow));

        var job = await h.InState(jobId, Stages.Transcoding);
        Assert.Equal("late.mp4", job.Key);
        Assert.Equal(1, h.SentCount<TranscodeVideo>(jobId));
    }

    [Fact]
    public async Task A_rejected_upload_fails_the_job_with_the_reason()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.SubmittedAsync();

        await h.Publish(new UploadRejected(jobId, "clip.mp4", "anonymous", 0, DateTimeOffset.UtcNow, "not a video: moov atom not found"));

        var job = await h.InState(jobId, m => m.Failed);
        Assert.Equal("not a video: moov atom not found", job.ErrorMessage);
        Assert.Equal(0, h.SentCount<TranscodeVideo>(jobId));
    }

    [Fact]
    public async Task A_rejected_upload_handled_before_its_submission_still_fails_the_job_with_the_reason()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = NewId.NextGuid();

        // The saga takes messages side by side: the rejection can be handled first.
        await h.Publish(new UploadRejected(jobId, "empty.mp4", "anonymous", 0, DateTimeOffset.UtcNow, "the file is empty"));
        await h.InState(jobId, m => m.Failed);
        await h.Publish(new JobSubmitted(jobId, "empty.mp4", "anonymous", 0, DateTimeOffset.UtcNow));

        var job = await h.InState(jobId, m => m.Failed);
        Assert.Equal("the file is empty", job.ErrorMessage);
        Assert.Equal("empty.mp4", job.Key);
    }
}
