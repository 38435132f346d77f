using Vidline.Contracts;

namespace Vidline.ProgressGateway;

/// <summary>
/// Every free-text field an event brings is stored at most <see cref="MaxChars"/> long. What the gateway holds per
/// job (and so each snapshot, replay and live event it sends) then has a size known in advance, whatever a
/// producer publishes: ingest-api allows keys of 512 characters, but a failing ffmpeg's error text has no limit.
/// </summary>
public static class StoredFields
{
    public const int MaxChars = 4096;

    public static string? Cap(string? text) =>
        text is { Length: > MaxChars } ? string.Concat(text.AsSpan(0, MaxChars - 1), "…") : text;

    public static JobStatusChanged Bounded(JobStatusChanged e) => e with
    {
        Key = Cap(e.Key)!, Owner = Cap(e.Owner)!, Stage = Cap(e.Stage)!, Status = Cap(e.Status)!, ErrorMessage = Cap(e.ErrorMessage),
    };

    public static ProgressReported Bounded(ProgressReported e) => e with { Stage = Cap(e.Stage)!, Message = Cap(e.Message)!, Node = Cap(e.Node) };

    public static WarningReported Bounded(WarningReported e) => e with { Stage = Cap(e.Stage)!, Message = Cap(e.Message)! };
}
