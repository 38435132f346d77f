namespace Vidline.ProgressGateway;

/// <summary>
/// How event ids are made, so that resuming by Last-Event-ID is exact without one lock for every writer.
///
/// An event's id is its transaction's id (PostgreSQL's 64-bit <c>xid8</c>) shifted left 16 bits, plus its place in
/// that transaction (1 to <see cref="PerTransaction"/>). Two facts follow:
/// <list type="bullet">
/// <item>One job's events: every writer of a job holds the job's lock (<see cref="JobLock"/>) from before it has a
/// transaction id until it commits, so a later writer of that job gets a larger transaction id. A job's ids grow in
/// the order its events commit: a reader of one job never finds an id below one it has read.</item>
/// <item>Everything else (all jobs, several jobs, a tenant's jobs): transactions of different jobs run side by side,
/// so a small id may commit after a larger one. Below the <see cref="Horizon"/> (the oldest transaction still
/// running, anywhere in the cluster) every transaction has ended, and no id can appear there any more: a reader
/// that stays below it never has an id show up behind its cursor.</item>
/// </list>
/// Ids stay plain integers (below 2^53 until the cluster has used 2^37 transaction ids, so JavaScript's numbers
/// hold them), and larger than every id stored before this scheme (those came from a sequence, one per event, and
/// no transaction stored anywhere near 65,536 events).
/// </summary>
public static class EventOrder
{
    /// <summary>Most events one transaction may store: its ids must stay below the next transaction's.</summary>
    public const int PerTransaction = (1 << 16) - 1;

    /// <summary>SQL for the id of the <c>{0}</c>-th (1-based) event the current transaction stores.</summary>
    public const string NewId = "((pg_current_xact_id()::text::bigint << 16) + {0})";

    /// <summary>SQL: every id below this belongs to a transaction that has ended (committed or not).</summary>
    public const string Horizon = "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16)";

    /// <summary>
    /// The advisory lock key of a job's writes. Two jobs that share a key (one chance in 2^64) only take turns.
    /// </summary>
    public static long JobLock(Guid job)
    {
        Span<byte> bytes = stackalloc byte[16];
        job.TryWriteBytes(bytes);
        return BitConverter.ToInt64(bytes[..8]) ^ BitConverter.ToInt64(bytes[8..]);
    }
}
