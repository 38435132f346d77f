using Vidline.Contracts;

namespace Vidline.IngestApi.Tests.Jobs;

public class CancellationTests
{
    public static TheoryData<string> CancellableStages => [.. Stages.InOrder.Select(s => s.Name)];

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

        await h.Publish(new VideoTranscoded(jobId, h.AttemptOf(jobId), JobHarness.Renditions));
        await h.Publish(new RetryJob(jobId, "anonymous"));

        await h.InState(jobId, m => m.Cancelled);
        Assert.Equal(0, h.SentCount<ValidateRenditions>(jobId));
    }

    [Fact]
    public async Task Cancelling_a_completed_job_changes_nothing()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.StoringAsync();
        await h.Publish(new OutputsStored(jobId, h.AttemptOf(jobId), "/a", "/b"));
        await h.InState(jobId, m => m.Completed);

        await h.Publish(new CancelJob(jobId, "anonymous"));

        await h.InState(jobId, m => m.Completed);
        Assert.Equal(0, h.PublishedCount<JobCancelled>(jobId));
    }

    [Fact]
    public async Task The_saga_answers_a_cancel_request_accepted_or_refused()
    {
        await using var h = await JobHarness.StartAsync();
        var running = await h.TranscodingAsync();
        var finished = await h.StoringAsync();
        await h.Publish(new OutputsStored(finished, h.AttemptOf(finished), "/a", "/b"));
        await h.InState(finished, m => m.Completed);

        Assert.Equal(RefusalReasons.NotFound, await h.RefusalOf(new CancelJob(running, "someone-else")));
        Assert.Equal(RefusalReasons.Conflict, await h.RefusalOf(new CancelJob(finished, "anonymous")));
        Assert.Equal(RefusalReasons.NotFound, await h.RefusalOf(new CancelJob(Guid.NewGuid(), "anonymous")));
        Assert.IsType<JobCommandAccepted>(await h.Ask(new CancelJob(running, "anonymous")));
        await h.InState(running, m => m.Cancelled);
        await h.InState(finished, m => m.Completed);
    }
}
