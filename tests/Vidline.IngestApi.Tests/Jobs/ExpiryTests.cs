using Vidline.Contracts;

namespace Vidline.IngestApi.Tests.Jobs;

public class ExpiryTests
{
    [Fact]
    public async Task A_finished_job_expires_tells_its_owners_and_then_refuses_retry_as_expired()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.ValidatingAsync();
        await h.Publish(new StageFailed(jobId, Stages.Validation, h.AttemptOf(jobId), "gate", Permanent: true));
        await h.InState(jobId, m => m.Failed);

        await h.Publish(new ExpireJob(jobId));
        await h.InState(jobId, m => m.Expired);
        Assert.True(await h.Bus.Published.Any<JobExpired>(m => m.Context.Message.JobId == jobId));

        Assert.Equal(RefusalReasons.Expired, await h.RefusalOf(new RetryJob(jobId, "anonymous")));
        Assert.Equal(1, h.SentCount<ValidateRenditions>(jobId));
    }

    [Fact]
    public async Task A_running_job_does_not_expire()
    {
        await using var h = await JobHarness.StartAsync();
        var jobId = await h.TranscodingAsync();

        await h.Publish(new ExpireJob(jobId));

        await h.InState(jobId, Stages.Transcoding);
        Assert.Equal(0, h.PublishedCount<JobExpired>(jobId));
    }
}
