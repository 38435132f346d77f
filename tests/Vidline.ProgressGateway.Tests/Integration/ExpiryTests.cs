using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Vidline.Contracts;
using static Vidline.ProgressGateway.Tests.Integration.Polling;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>ingest-api decides when a job expires; the gateway then forgets the job's row and events, and nothing else.</summary>
[Collection(nameof(GatewayFixture))]
public class ExpiryTests(GatewayFixture fixture)
{
    private readonly HttpClient _a = fixture.A.CreateClient();

    [Fact]
    public async Task An_expired_job_is_forgotten_with_its_events_and_other_jobs_stay()
    {
        var (expired, kept) = (Guid.NewGuid(), Guid.NewGuid());
        var log = fixture.A.Services.GetRequiredService<EventLog>();
        foreach (var job in new[] { expired, kept })
        {
            await log.AppendProgressAsync([Messages.Progress(job, Stages.Transcoding, 40)], default);
            await log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job)), default);
        }
        // Files belong to ingest-api: the gateway must not touch them.
        var file = Path.Combine(fixture.StorageRoot, "outputs", expired.ToString("N"), "master.m3u8");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, "#EXTM3U");

        await fixture.Bus.Publish(new JobExpired(expired));

        await Eventually(async () => (await _a.GetAsync($"/jobs/{expired}")).StatusCode == HttpStatusCode.NotFound);
        Assert.Empty(await fixture.StoredIds(expired));
        Assert.Equal(HttpStatusCode.OK, (await _a.GetAsync($"/jobs/{kept}")).StatusCode);
        Assert.Equal(2, (await fixture.StoredIds(kept)).Count);
        Assert.True(File.Exists(file));
    }
}
