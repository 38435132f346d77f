using Microsoft.Extensions.DependencyInjection;
using Vidline.Contracts;
using static Vidline.ProgressGateway.Tests.Integration.Polling;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>Two instances share one store: what either stores reaches clients of both, complete and in order.</summary>
[Collection(nameof(GatewayFixture))]
public class MultiInstanceTests(GatewayFixture fixture)
{
    private readonly HttpClient _a = fixture.A.CreateClient();
    private readonly HttpClient _b = fixture.B.CreateClient();

    [Fact]
    public async Task Resume_mid_job_across_instances_has_no_gap_and_no_duplicate()
    {
        var job = Guid.NewGuid();
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        await fixture.WaitForJob(job);

        long lastSeen;
        await using (var first = await SseClient.OpenAsync(_a, $"/jobs/{job}/stream"))
        {
            await first.ExpectAsync(EventTypes.Status);
            await fixture.Bus.Publish(Messages.Progress(job, Stages.Transcoding, 10));
            lastSeen = (await first.ExpectAsync(EventTypes.Progress)).Id!.Value;
        }
        // While disconnected, more happens.
        for (var p = 20; p <= 60; p += 10) await fixture.Bus.Publish(Messages.Progress(job, Stages.Transcoding, p));
        await Eventually(async () => (await fixture.StoredIds(job)).Count == 7);

        await using var second = await SseClient.OpenAsync(_b, $"/jobs/{job}/stream", lastEventIdHeader: lastSeen.ToString());
        var received = new List<long>();
        for (var i = 0; i < 5; i++) received.Add((await second.ExpectAsync(EventTypes.Progress)).Id!.Value);
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job)));
        received.AddRange((await second.ReadToEndAsync()).Select(e => e.Id!.Value));

        Assert.Equal((await fixture.StoredIds(job)).Where(id => id > lastSeen), received);
    }

    [Fact]
    public async Task Concurrent_writers_on_both_instances_reach_a_streaming_client_complete_and_in_order()
    {
        var job = Guid.NewGuid();
        var logs = new[] { fixture.A, fixture.B }.Select(f => f.Services.GetRequiredService<EventLog>()).ToArray();
        await logs[0].ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding), default);

        await using var stream = await SseClient.OpenAsync(_b, $"/jobs/{job}/stream");
        await stream.ExpectAsync(EventTypes.Status);

        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
                await logs[w % 2].AppendProgressAsync([Messages.Progress(job, Stages.Transcoding, i * 4)], default);
        }));
        await Task.WhenAll(writers);
        await logs[1].ApplyStatusAsync(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job)), default);

        var received = (await stream.ReadToEndAsync()).Select(e => e.Id!.Value).ToList();
        Assert.Equal((await fixture.StoredIds(job)).Skip(1), received);
        Assert.Equal(201, received.Count);
    }

    [Fact]
    public async Task A_client_on_instance_B_sees_events_stored_by_instance_A()
    {
        var job = Guid.NewGuid();
        var logA = fixture.A.Services.GetRequiredService<EventLog>();
        await logA.ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding), default);

        await using var onB = await SseClient.OpenAsync(_b, $"/jobs/{job}/stream");
        await using var onA = await SseClient.OpenAsync(_a, $"/jobs/{job}/stream");
        await onB.ExpectAsync(EventTypes.Status);
        await onA.ExpectAsync(EventTypes.Status);

        await logA.AppendProgressAsync([Messages.Progress(job, Stages.Transcoding, 30)], default);
        await logA.AppendWarningAsync(Messages.Warning(job, Stages.Transcoding, "odd audio"), default);
        // And through the broker: whichever instance consumes them, both clients see them.
        for (var p = 40; p <= 80; p += 10) await fixture.Bus.Publish(Messages.Progress(job, Stages.Transcoding, p));
        await Eventually(async () => (await fixture.StoredIds(job)).Count == 8);
        await logA.ApplyStatusAsync(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job)), default);

        var seenOnB = await onB.ReadToEndAsync();
        var seenOnA = await onA.ReadToEndAsync();
        var stored = await fixture.StoredIds(job);
        Assert.Equal(stored.Skip(1), seenOnB.Select(e => e.Id!.Value));
        Assert.Equal(stored.Skip(1), seenOnA.Select(e => e.Id!.Value));
        Assert.Equal(EventTypes.Done, seenOnB[^1].Event);
    }
}
