using Microsoft.Extensions.DependencyInjection;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>Stored events wake the tailers of every instance: a NOTIFY follows the commit.</summary>
[Collection(nameof(GatewayFixture))]
public class CommitSignalTests(GatewayFixture fixture)
{
    [Fact]
    public async Task A_write_that_stored_events_is_followed_by_a_notification()
    {
        await using var listener = await fixture.Db.OpenConnectionAsync();
        var notified = 0;
        listener.Notification += (_, _) => Interlocked.Increment(ref notified);
        await using (var listen = listener.CreateCommand())
        {
            listen.CommandText = $"LISTEN {EventLog.Channel}";
            await listen.ExecuteNonQueryAsync();
        }
        var log = fixture.A.Services.GetRequiredService<EventLog>();
        var report = Messages.Progress(Guid.NewGuid(), Stages.Transcoding, 10);

        Assert.Equal(1, await log.AppendProgressAsync([report], default));
        // Waits until the notification is read (or fails after 30 s of silence).
        Assert.True(await listener.WaitAsync(TimeSpan.FromSeconds(30)), "no NOTIFY followed a commit that stored an event");
        Assert.True(Volatile.Read(ref notified) >= 1);
    }
}
