using Vidline.Contracts;

namespace Vidline.IngestApi.Tests.Jobs;

public class CancellationTests
{
    public static TheoryData<string> CancellableStages => [Stages.Uploading, Stages.Transcoding, Stages.Validation, Stages.Packaging, Stages.Storage];

    [Theory, MemberData(nameof(CancellableStages))]
    public async Task Cancel_in_any_running_state_cancels_and_tells_every_node(string stage)
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.AtStageAsync(stage);

        await h.Publish(new CancelJob(jobId, "anonymous"));

        await h.InState(jobId, m => m.Cancelled);
        Assert.True(await h.Bus.Published.Any<JobCancelled>(m => m.Context.Message.JobId == jobId));
        Assert.True(await h.Bus.Published.Any<JobStatusChanged>(m =>
            m.Context.Message.JobId == jobId && m.Context.Message.Status == JobStatuses.Cancelled));
    }

    [Fact]
    public async Task A_stage_answer_after_cancel_does_not_revive_the_job()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.TranscodingAsync();
        await h.Publish(new CancelJob(jobId, "anonymous"));
        await h.InState(jobId, m => m.Cancelled);

        await h.Publish(new VideoTranscoded(jobId, 1, JobHarness.Renditions));
        await h.Publish(new RetryJob(jobId, "anonymous"));

        await h.InState(jobId, m => m.Cancelled);
        Assert.Equal(0, h.SentCount<ValidateRenditions>(jobId));
    }

    [Fact]
    public async Task Cancelling_a_completed_job_changes_nothing()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.StoringAsync();
        await h.Publish(new OutputsStored(jobId, 1, "/a", "/b"));
        await h.InState(jobId, m => m.Completed);

        await h.Publish(new CancelJob(jobId, "anonymous"));

        await h.InState(jobId, m => m.Completed);
        Assert.Equal(0, h.PublishedCount<JobCancelled>(jobId));
    }
}
