using Microsoft.Extensions.DependencyInjection;
using Vidline.Contracts;
using static Vidline.ProgressGateway.Tests.Integration.Polling;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>How reports are stored: once per message, never backwards, and not after the job has ended.</summary>
[Collection(nameof(GatewayFixture))]
public class EventStorageTests(GatewayFixture fixture)
{
    [Fact]
    public async Task A_redelivered_progress_report_is_stored_once()
    {
        var job = Guid.NewGuid();
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        var duplicate = Messages.Progress(job, Stages.Transcoding, 40);
        await fixture.Bus.Publish(duplicate);
        await fixture.Bus.Publish(duplicate);
        await fixture.Bus.Publish(Messages.Progress(job, Stages.Transcoding, 45));
        await Eventually(async () => (await fixture.StoredIds(job)).Count >= 3);
        await Task.Delay(500); // let any straggling copy land

        await using var count = fixture.Db.CreateCommand("SELECT count(*) FROM progress_events WHERE message_id = @m");
        count.Parameters.AddWithValue("m", duplicate.EventId);
        Assert.Equal(1L, await count.ExecuteScalarAsync());
        Assert.Equal(3, (await fixture.StoredIds(job)).Count);

        // The same through the log directly reports nothing new stored.
        var log = fixture.A.Services.GetRequiredService<EventLog>();
        Assert.Equal(0, await log.AppendProgressAsync([duplicate, duplicate], CancellationToken.None));
    }

    [Fact]
    public async Task An_event_the_database_refuses_for_good_still_goes_to_the_error_queue_after_the_usual_retries()
    {
        // PostgreSQL refuses a NUL character in text (SQLSTATE 22021): not an outage, so it is not waited out.
        var refused = Messages.Status(Guid.NewGuid(), JobStatuses.Processing, Stages.Transcoding) with { Key = "bad\0key" };
        var errorQueue = $"{Consumers.GatewayEndpoint.Name}_error";
        var before = await fixture.Broker.MessagesInAsync(errorQueue);
        await fixture.Bus.Publish(refused);
        await Eventually(async () => await fixture.Broker.MessagesInAsync(errorQueue) == before + 1, timeoutSeconds: 60);
    }

    [Fact]
    public async Task Progress_never_moves_backwards_and_a_finished_job_ignores_late_progress()
    {
        var job = Guid.NewGuid();
        var log = fixture.A.Services.GetRequiredService<EventLog>();

        // Progress before any status: a placeholder row keeps it. Its owner is not known yet, so no tenant sees it.
        Assert.Equal(1, await log.AppendProgressAsync([Messages.Progress(job, Stages.Validation, 50)], default));
        await using (var row = fixture.Db.CreateCommand($"SELECT status, key, owner, progress FROM jobs WHERE id = '{job}'"))
        await using (var placeholder = await row.ExecuteReaderAsync())
        {
            Assert.True(await placeholder.ReadAsync());
            Assert.Equal(("pending", "", "", 60m), (placeholder.GetString(0), placeholder.GetString(1), placeholder.GetString(2), placeholder.GetDecimal(3)));
        }
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await fixture.A.CreateClient().GetAsync($"/jobs/{job}")).StatusCode);

        // The status fills the row in; a report from an earlier stage arrives late.
        await log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Validation), default);
        Assert.Equal(1, await log.AppendProgressAsync([Messages.Progress(job, Stages.Transcoding, 90)], default));
        var json = await fixture.GetJob(job);
        Assert.Equal($"videos/{job:N}.mp4", json.GetProperty("key").GetString());
        Assert.Equal(60, json.GetProperty("progress").GetDouble());
        Assert.Equal("validation", json.GetProperty("stage").GetString());

        // An older status delivered late changes nothing.
        var stale = Messages.Status(job, JobStatuses.Processing, Stages.Transcoding) with { Timestamp = DateTimeOffset.UtcNow.AddHours(-1) };
        Assert.Equal(0, await log.ApplyStatusAsync(stale, default));
        Assert.Equal("validation", (await fixture.GetJob(job)).GetProperty("stage").GetString());

        await log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Cancelled, Stages.Validation), default);
        var before = await fixture.StoredIds(job);
        Assert.Equal(0, await log.AppendProgressAsync([Messages.Progress(job, Stages.Validation, 99)], default));
        Assert.Equal(0, await log.AppendWarningAsync(Messages.Warning(job, Stages.Validation, "late"), default));
        var after = await fixture.GetJob(job);
        Assert.Equal("cancelled", after.GetProperty("status").GetString());
        Assert.Equal(60, after.GetProperty("progress").GetDouble());
        Assert.Equal(before, await fixture.StoredIds(job));
    }

    [Fact]
    public async Task Progress_on_the_wire_never_rewinds_when_a_stage_starts_again_or_reports_arrive_out_of_order()
    {
        var job = Guid.NewGuid();
        var log = fixture.A.Services.GetRequiredService<EventLog>();
        await log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding), default);
        // Attempt 1 got to 40% of transcoding (overall 26); a restarted attempt starts the stage at 0 again,
        // and in one batch a report overtakes an earlier one.
        await log.AppendProgressAsync([Messages.Progress(job, Stages.Transcoding, 40)], default);
        await log.AppendProgressAsync([Messages.Progress(job, Stages.Transcoding, 0), Messages.Progress(job, Stages.Transcoding, 50),
            Messages.Progress(job, Stages.Transcoding, 45)], default);

        await using var command = fixture.Db.CreateCommand(
            "SELECT (data->>'progress')::numeric, (data->>'stage_progress')::numeric FROM progress_events WHERE job_id = @j AND type = 'progress' ORDER BY id");
        command.Parameters.AddWithValue("j", job);
        var seen = new List<(decimal Overall, decimal Stage)>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) seen.Add((reader.GetDecimal(0), reader.GetDecimal(1)));
        Assert.Equal([26m, 26m, 30m, 30m], seen.Select(e => e.Overall));
        Assert.Equal([40m, 0m, 50m, 45m], seen.Select(e => e.Stage)); // each report keeps its own stage figure
    }

    [Fact]
    public async Task Progress_of_a_new_run_is_kept_even_before_its_status_but_a_finished_run_gets_nothing_more()
    {
        var job = Guid.NewGuid();
        var log = fixture.A.Services.GetRequiredService<EventLog>();
        await log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Validation), default);
        await log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Failed, Stages.Validation, error: "gate"), default);

        // A straggler of run 1 stays out; run 2's first report, overtaking run 2's status, is kept.
        Assert.Equal(0, await log.AppendProgressAsync([Messages.Progress(job, Stages.Validation, 40, run: 1)], default));
        Assert.Equal(1, await log.AppendProgressAsync([Messages.Progress(job, Stages.Validation, 0, run: 2)], default));
        Assert.Equal(2, (await fixture.GetJob(job)).GetProperty("run").GetInt32());

        // Once run 2 has begun, run 1 is history: neither its progress, its warnings nor a late status of it count.
        Assert.Equal(0, await log.AppendProgressAsync([Messages.Progress(job, Stages.Validation, 50, run: 1)], default));
        Assert.Equal(0, await log.AppendWarningAsync(Messages.Warning(job, Stages.Validation, "late", run: 1), default));
        Assert.Equal(0, await log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Failed, Stages.Validation, error: "late", run: 1), default));
        Assert.Equal(1, await log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Validation, run: 2), default));
        Assert.Equal("processing", (await fixture.GetJob(job)).GetProperty("status").GetString());
    }
}
