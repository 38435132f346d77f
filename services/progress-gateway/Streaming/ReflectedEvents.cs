namespace Vidline.ProgressGateway.Streaming;

/// <summary>
/// The events after a fresh stream's starting id that its snapshots already reflect, so the stream does not send them
/// again: ids in ascending order, as a stream meets them. Once the stream is past the last one they are let go, so a
/// long-lived stream does not keep them (10,000 streams would otherwise hold up to 1,000 ids each for their whole life).
/// </summary>
public sealed class ReflectedEvents(long[] ascendingIds)
{
    private long[]? _ids = ascendingIds.Length > 0 ? ascendingIds : null;

    /// <summary>Whether the ids were let go: the stream has passed every one of them.</summary>
    public bool Released => _ids is null;

    /// <summary>Whether event <paramref name="id"/> is reflected; ids must come in ascending order.</summary>
    public bool Covers(long id)
    {
        if (_ids is not { } ids) return false;
        if (id >= ids[^1]) _ids = null;
        return Array.BinarySearch(ids, id) >= 0;
    }
}
