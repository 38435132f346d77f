namespace Vidline.ProgressGateway;

/// <summary>
/// One row of <c>progress_events</c> as streamed: <c>Data</c> is the SSE payload, already JSON.
/// <c>JobStatus</c> is the job's status when the row was read, for the <c>?status=</c> filter.
/// </summary>
public sealed record StoredEvent(long Id, Guid JobId, string Type, string Data, string JobStatus)
{
    public bool IsDone => Type == Vidline.Contracts.EventTypes.Done;
}
