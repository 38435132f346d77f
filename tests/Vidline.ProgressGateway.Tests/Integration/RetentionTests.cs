using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>The retention sweep removes old finished jobs with their events and files, and nothing newer.</summary>
[Collection(nameof(GatewayFixture))]
public class RetentionTests(GatewayFixture fixture)
{
    private readonly HttpClient _a = fixture.A.CreateClient();

    [Fact]
    public async Task Retention_removes_old_jobs_their_events_and_files()
    {
        var (old, fresh) = (Guid.NewGuid(), Guid.NewGuid());
        var log = fixture.A.Services.GetRequiredService<EventLog>();
        await log.ApplyStatusAsync(Messages.Status(old, JobStatuses.Completed, Stages.Storage, result: Messages.Result(old)), default);
        await log.ApplyStatusAsync(Messages.Status(fresh, JobStatuses.Completed, Stages.Storage, result: Messages.Result(fresh)), default);
        await using (var age = fixture.Db.CreateCommand("UPDATE jobs SET completed_at = now() - interval '8 days', updated_at = now() - interval '8 days' WHERE id = @id"))
        {
            age.Parameters.AddWithValue("id", old);
            await age.ExecuteNonQueryAsync();
        }
        foreach (var folder in new[] { "outputs", "work", "uploads" })
        {
            Directory.CreateDirectory(Path.Combine(fixture.StorageRoot, folder, old.ToString("N"), "sub"));
            File.WriteAllText(Path.Combine(fixture.StorageRoot, folder, old.ToString("N"), "sub", "x.bin"), "x");
            Directory.CreateDirectory(Path.Combine(fixture.StorageRoot, folder, fresh.ToString("N")));
        }

        var removed = await fixture.B.Services.GetRequiredService<RetentionSweep>().SweepAsync(default);

        Assert.Contains(old, removed);
        Assert.DoesNotContain(fresh, removed);
        Assert.Equal(HttpStatusCode.NotFound, (await _a.GetAsync($"/jobs/{old}")).StatusCode);
        Assert.Empty(await fixture.StoredIds(old));
        Assert.Equal(HttpStatusCode.OK, (await _a.GetAsync($"/jobs/{fresh}")).StatusCode);
        foreach (var folder in new[] { "outputs", "work", "uploads" })
        {
            Assert.False(Directory.Exists(Path.Combine(fixture.StorageRoot, folder, old.ToString("N"))));
            Assert.True(Directory.Exists(Path.Combine(fixture.StorageRoot, folder, fresh.ToString("N"))));
        }
    }
}
