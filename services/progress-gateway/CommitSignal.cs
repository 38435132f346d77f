using Npgsql;

namespace Vidline.ProgressGateway;

/// <summary>
/// Wakes every instance's <see cref="EventTailer"/> after events were committed, by <c>NOTIFY</c>.
///
/// Not inside the writing transaction: PostgreSQL holds its one notification-queue lock from a notifying
/// transaction's pre-commit until its commit is flushed, so a NOTIFY there is a lock every writer of every job takes
/// turns on. Sent after the commit instead, by at most one NOTIFY in flight per instance: commits that land while one is
/// on its way share the next one. Every commit is followed by a NOTIFY that starts after it; one that never arrives
/// (the process died, the database went away) is what the tailer's poll is for.
/// </summary>
public sealed class CommitSignal(NpgsqlDataSource dataSource, ILogger<CommitSignal>? logger = null)
{
    // 0: nothing to send; 1: a NOTIFY is being sent; 2: one is being sent and another is due after it.
    private int _state;

    /// <summary>Called after a commit that stored events.</summary>
    public void Raise()
    {
        while (true)
        {
            var state = Volatile.Read(ref _state);
            if (state == 2) return;
            if (Interlocked.CompareExchange(ref _state, state + 1, state) != state) continue;
            if (state == 0) _ = SendAsync();
            return;
        }
    }

    private async Task SendAsync()
    {
        do
        {
            try
            {
                await using var notify = dataSource.CreateCommand($"NOTIFY {EventLog.Channel}");
                await notify.ExecuteNonQueryAsync();
            }
            catch (Exception e)
            {
                logger?.LogDebug("NOTIFY after commit failed ({Reason}); tailers find the events by their poll", e.Message);
            }
        } while (Interlocked.Decrement(ref _state) > 0);
    }
}
