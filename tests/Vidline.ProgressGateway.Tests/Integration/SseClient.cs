using System.Text;
using System.Text.Json;

namespace Vidline.ProgressGateway.Tests.Integration;

public sealed record SseEvent(string? Event, long? Id, string Data)
{
    public JsonElement Json => JsonDocument.Parse(Data).RootElement;
}

/// <summary>A minimal EventSource for tests: reads blocks, keeps comments and retry hints aside.</summary>
public sealed class SseClient : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseClient(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body, Encoding.UTF8);
    }

    public HttpResponseMessage Response => _response;
    public List<string> Comments { get; } = [];
    public int? Retry { get; private set; }

    public static async Task<SseClient> OpenAsync(HttpClient client, string url, string? lastEventIdHeader = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventIdHeader is not null) request.Headers.Add("Last-Event-ID", lastEventIdHeader);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return new SseClient(response, await response.Content.ReadAsStreamAsync());
    }

    /// <summary>The next event, or null when the server ended the stream.</summary>
    public async Task<SseEvent?> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        string? type = null;
        long? id = null;
        var data = new List<string>();
        while (true)
        {
            var line = await _reader.ReadLineAsync(cts.Token);
            if (line is null) return null;
            if (line.Length == 0)
            {
                if (data.Count > 0) return new SseEvent(type, id, string.Join('\n', data));
                type = null;
                id = null;
                continue;
            }
            if (line.StartsWith(':')) { Comments.Add(line[1..].Trim()); continue; }
            var colon = line.IndexOf(':');
            var (field, value) = colon < 0 ? (line, "") : (line[..colon], line[(colon + 1)..].TrimStart(' '));
            switch (field)
            {
                case "event": type = value; break;
                case "id": id = long.Parse(value); break;
                case "data": data.Add(value); break;
                case "retry": Retry = int.Parse(value); break;
            }
        }
    }

    /// <summary>Reads until the stream ends; fails if it does not end within the timeout.</summary>
    public async Task<List<SseEvent>> ReadToEndAsync(TimeSpan? timeout = null)
    {
        var events = new List<SseEvent>();
        while (await NextAsync(timeout) is { } e) events.Add(e);
        return events;
    }

    public async Task<SseEvent> ExpectAsync(string type, TimeSpan? timeout = null)
    {
        var e = await NextAsync(timeout) ?? throw new Xunit.Sdk.XunitException($"stream ended while waiting for '{type}'");
        Assert.Equal(type, e.Event);
        return e;
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
