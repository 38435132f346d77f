using System.Text;
using System.Text.Json;

namespace Vidline.EndToEnd.Tests;

/// <summary>One Server-Sent Event as a browser's EventSource would see it.</summary>
public sealed record SseEvent(string Type, string? Id, string Data)
{
    public JsonElement Json => JsonDocument.Parse(Data).RootElement;

    /// <summary>Parses an event stream (event/id/data fields, blank line ends an event, ':' lines are comments) until it closes.</summary>
    public static async Task<IReadOnlyList<SseEvent>> ReadAllAsync(Stream stream, List<SseEvent> events, CancellationToken cancellationToken)
    {
        await ReadAsync(stream, events.Add, () => { }, cancellationToken);
        return events;
    }

    /// <summary>
    /// As <see cref="ReadAllAsync"/>, handing over each event as it completes; <paramref name="lineRead"/> runs on
    /// every line, heartbeat comments included, so a reader can tell a quiet stream from a dead one.
    /// </summary>
    public static async Task ReadAsync(Stream stream, Action<SseEvent> eventRead, Action lineRead, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? type = null, id = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            lineRead();
            if (line.Length == 0)
            {
                if (data.Length > 0) eventRead(new SseEvent(type ?? "message", id, data.ToString().TrimEnd('\n')));
                (type, id) = (null, null);
                data.Clear();
            }
            else if (line.StartsWith("event:")) type = line[6..].Trim();
            else if (line.StartsWith("id:")) id = line[3..].Trim();
            else if (line.StartsWith("data:")) data.Append(line[5..].TrimStart()).Append('\n');
        }
    }
}
