using System.Text;

namespace Vidline.ProgressGateway.Streaming;

/// <summary>
/// One Server-Sent Events block. Written by hand rather than with <c>TypedResults.ServerSentEvents</c>
/// because a stream here also needs comment lines (heartbeats) and a leading <c>retry:</c> hint.
/// </summary>
public readonly record struct SseFrame(string? Event = null, string? Data = null, long? Id = null, int? RetryMilliseconds = null, string? Comment = null)
{
    public static SseFrame Heartbeat { get; } = new(Comment: "heartbeat");

    public static SseFrame For(StoredEvent e) => new(e.Type, e.Data, e.Id);

    public override string ToString()
    {
        var text = new StringBuilder();
        if (Comment is not null)
            foreach (var line in Lines(Comment)) text.Append(": ").Append(line).Append('\n');
        if (Event is not null) text.Append("event: ").Append(Event).Append('\n');
        if (Id is { } id) text.Append("id: ").Append(id).Append('\n');
        if (RetryMilliseconds is { } retry) text.Append("retry: ").Append(retry).Append('\n');
        // A data value with line breaks becomes several data lines; the client joins them with '\n'.
        if (Data is not null)
            foreach (var line in Lines(Data)) text.Append("data: ").Append(line).Append('\n');
        return text.Append('\n').ToString();
    }

    private static string[] Lines(string value) => value.ReplaceLineEndings("\n").Split('\n');
}
