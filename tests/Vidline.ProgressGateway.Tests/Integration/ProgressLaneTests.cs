using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>
/// A batch of progress over many jobs is stored as one transaction per lane (<see cref="EventLog.Lanes"/>): each job's
/// events in one of them, in order, and a lane that fails takes only its own jobs' events with it, and says so.
/// </summary>
[Collection(nameof(GatewayFixture))]
public class ProgressLaneTests(GatewayFixture fixture)
{
    private const int ReportsPerJob = 5;

    [Fact]
    public async Task A_batch_over_many_jobs_is_stored_side_by_side_with_each_job_in_one_transaction_in_order()
    {
        var jobs = JobsCoveringEveryLane();
        var log = fixture.A.Services.GetRequiredService<EventLog>();

        Assert.Equal(jobs.Count * ReportsPerJob, await log.AppendProgressAsync(RoundRobin(jobs), default));

        var transactions = new HashSet<long>();
        foreach (var job in jobs)
        {
            var rows = await StoredProgress(job);
            Assert.Equal(Enumerable.Range(1, ReportsPerJob).Select(i => 10.0 * i).ToList(), rows.Select(r => r.StageProgress).ToList());
            Assert.Single(rows.Select(r => r.Id >> 16).Distinct());
            transactions.Add(rows[0].Id >> 16);
        }
        Assert.Equal(EventLog.Lanes, transactions.Count);
    }

    [Fact]
    public async Task A_lane_that_fails_stores_none_of_its_jobs_the_batch_fails_and_its_redelivery_stores_each_report_once()
    {
        var jobs = JobsCoveringEveryLane();
        var poisoned = jobs[0];
        var batch = RoundRobin(jobs);
        // PostgreSQL refuses a NUL character in text: this one report makes its lane's transaction fail.
        var refused = batch.FindIndex(e => e.JobId == poisoned);
        batch[refused] = batch[refused] with { Message = "bad\0message" };
        var log = fixture.A.Services.GetRequiredService<EventLog>();

        await Assert.ThrowsAsync<PostgresException>(() => log.AppendProgressAsync(batch, default));

        var failedLane = EventLog.Lane(poisoned);
        foreach (var job in jobs)
            Assert.Equal(EventLog.Lane(job) == failedLane ? 0 : ReportsPerJob, (await StoredProgress(job)).Count);

        // The batch comes again (it was not acknowledged), this time whole: the lanes that committed store nothing twice.
        batch[refused] = batch[refused] with { Message = "fixed" };
        var stored = await log.AppendProgressAsync(batch, default);
        Assert.Equal(jobs.Count(j => EventLog.Lane(j) == failedLane) * ReportsPerJob, stored);
        foreach (var job in jobs)
            Assert.Equal(Enumerable.Range(1, ReportsPerJob).Select(i => 10.0 * i).ToList(),
                (await StoredProgress(job)).Select(r => r.StageProgress).ToList());
    }

    /// <summary>Two new jobs in each lane.</summary>
    private static List<Guid> JobsCoveringEveryLane()
    {
        var jobs = new List<Guid>();
        for (var lane = 0; lane < EventLog.Lanes; lane++)
        {
            var inLane = 0;
            while (inLane < 2)
            {
                var job = Guid.NewGuid();
                if (EventLog.Lane(job) != lane) continue;
                jobs.Add(job);
                inLane++;
            }
        }
        return jobs;
    }

    /// <summary>The bench's shape: every job's reports interleaved with every other job's, each job's in order.</summary>
    private static List<ProgressReported> RoundRobin(List<Guid> jobs) =>
        Enumerable.Range(1, ReportsPerJob)
            .SelectMany(i => jobs.Select(job => Messages.Progress(job, Stages.Transcoding, 10.0 * i)))
            .ToList();

    private async Task<List<(long Id, double StageProgress)>> StoredProgress(Guid job)
    {
        await using var command = fixture.Db.CreateCommand(
            "SELECT id, (data->>'stage_progress')::float8 FROM progress_events WHERE job_id = @j AND type = 'progress' ORDER BY id");
        command.Parameters.AddWithValue("j", job);
        var rows = new List<(long, double)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add((reader.GetInt64(0), reader.GetDouble(1)));
        return rows;
    }
}
