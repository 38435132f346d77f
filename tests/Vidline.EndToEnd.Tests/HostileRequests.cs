using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// A request exactly as a hostile client writes it: the request target, headers and body go out byte for byte
/// (no client library normalises `..`, refuses a NUL in a header or a 5,000-character boundary).
/// </summary>
public sealed record HostileRequest(string Method, string Target)
{
    public IReadOnlyList<(string Name, string Value)> Headers { get; init; } = [];
    public byte[]? Body { get; init; }

    /// <summary>After this many body bytes the client stops for <see cref="Pause"/> (then sends the rest, or hangs up when <see cref="HangUpAtPause"/>).</summary>
    public int? PauseAt { get; init; }
    public TimeSpan Pause { get; init; }
    public bool HangUpAtPause { get; init; }

    /// <summary>For a stream that never ends: the answer is its status and headers.</summary>
    public bool HeadersOnly { get; init; }

    public static HostileRequest Get(string target, params (string, string)[] headers) => new("GET", target) { Headers = headers };

    public static HostileRequest Post(string target, params (string, string)[] headers) => new("POST", target) { Headers = headers, Body = [] };

    public static HostileRequest Upload(HostileForm form, params (string, string)[] headers) => new("POST", "/process")
    {
        Headers = [("Content-Type", $"multipart/form-data; boundary={form.Boundary}"), .. headers],
        Body = form.Bytes,
    };

    public static HostileRequest Upload(string contentType, byte[] body) => new("POST", "/process")
    {
        Headers = contentType.Length == 0 ? [] : [("Content-Type", contentType)],
        Body = body,
    };
}

/// <summary>One part of a hand-written multipart body.</summary>
public sealed record FormPart(string Name, byte[] Content, string? FileName = null)
{
    /// <summary>Replaces the part's headers (Content-Disposition and Content-Type) entirely.</summary>
    public string? Headers { get; init; }

    public static FormPart Field(string name, string value) => new(name, Encoding.UTF8.GetBytes(value));

    public static FormPart Video(byte[] content, string fileName = "clip.mp4") => new("video", content, fileName);

    public byte[] Render()
    {
        var headers = Headers ?? (FileName is null
            ? $"Content-Disposition: form-data; name=\"{Name}\"\r\n"
            : $"Content-Disposition: form-data; name=\"{Name}\"; filename=\"{FileName}\"\r\nContent-Type: video/mp4\r\n");
        return [.. Encoding.UTF8.GetBytes(headers + "\r\n"), .. Content];
    }
}

/// <summary>A multipart/form-data body, well formed unless a case cuts or bends it.</summary>
public sealed record HostileForm(string Boundary, byte[] Bytes)
{
    public const string UsualBoundary = "vidline-hostile-boundary";

    public static HostileForm Of(params FormPart[] parts) => WithBoundary(UsualBoundary, parts);

    public static HostileForm WithBoundary(string boundary, params FormPart[] parts)
    {
        var body = new MemoryStream();
        foreach (var part in parts)
        {
            body.Write(Encoding.ASCII.GetBytes($"--{boundary}\r\n"));
            body.Write(part.Render());
            body.Write("\r\n"u8);
        }
        body.Write(Encoding.ASCII.GetBytes($"--{boundary}--\r\n"));
        return new HostileForm(boundary, body.ToArray());
    }

    /// <summary>The body cut off at a fraction of its length (the request's Content-Length says so too: the client simply stopped there).</summary>
    public HostileForm CutAt(double fraction) => this with { Bytes = Bytes[..(int)(Bytes.Length * fraction)] };

    /// <summary>The first <paramref name="length"/> bytes.</summary>
    public HostileForm CutTo(int length) => this with { Bytes = Bytes[..length] };

    /// <summary>The same parts under a Content-Type that names another boundary than the body uses.</summary>
    public HostileForm Announcing(string boundary) => this with { Boundary = boundary };
}

/// <summary>What came back: the status (0 when the connection broke without one), headers, body, and whether the server ended it.</summary>
public sealed record Answer(int Status, IReadOnlyDictionary<string, string> Headers, string Body, bool Ended)
{
    public string? MediaType => Headers.TryGetValue("content-type", out var type) ? type.Split(';')[0].Trim() : null;

    public override string ToString() =>
        $"{Status} {MediaType} ({(Ended ? "ended" : "still open")}) {Body[..Math.Min(Body.Length, 600)]}";
}

/// <summary>
/// Sends a <see cref="HostileRequest"/> over its own TCP connection to the edge and reads the answer; every job a 202
/// names goes into <paramref name="accepted"/>, so the suite can check that each of them exists.
/// </summary>
public sealed class HostileClient(int edgePort, HttpClient identity, ConcurrentBag<Guid> accepted)
{
    /// <summary>Long enough for an upload's probe on a busy machine; a stream that runs longer is reported as not ended.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>The client's own address; every 127.x.y.z is this machine, so tests can be different clients to the edge.</summary>
    public IPAddress Source { get; private init; } = IPAddress.Loopback;

    /// <summary>The same tenant, connecting from another address (the edge counts its per-address limits by it).</summary>
    public HostileClient From(IPAddress source) => new(edgePort, identity, accepted) { Source = source };

    public async Task<Answer> SendAsync(HostileRequest request)
    {
        using var tcp = new TcpClient(new IPEndPoint(Source, 0));
        await tcp.ConnectAsync(IPAddress.Loopback, edgePort);
        var stream = tcp.GetStream();
        using var patience = new CancellationTokenSource(Patience);
        // Reading starts at once: a server may answer (and close) before the body is all sent, as it should for a bad header.
        var reading = ReadAsync(stream, request.HeadersOnly, patience.Token);
        try
        {
            await stream.WriteAsync(Head(request));
            var body = request.Body ?? [];
            var first = Math.Min(request.PauseAt ?? body.Length, body.Length);
            await stream.WriteAsync(body.AsMemory(0, first));
            if (request.PauseAt is not null)
            {
                await Task.Delay(request.Pause);
                if (request.HangUpAtPause)
                {
                    tcp.Client.Close(0);
                    return new Answer(0, new Dictionary<string, string>(), "", Ended: true);
                }
            }
            await stream.WriteAsync(body.AsMemory(first));
        }
        catch (IOException) { } // the server stopped reading: its answer tells why
        var answer = Parse(await reading);
        if (answer.Status == 202 && JobIdIn(answer.Body) is { } jobId) accepted.Add(jobId);
        return answer;
    }

    private static Guid? JobIdIn(string body)
    {
        try
        {
            return JsonDocument.Parse(body).RootElement.GetProperty("job_id").GetGuid();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private byte[] Head(HostileRequest request)
    {
        var head = new StringBuilder($"{request.Method} {request.Target} HTTP/1.1\r\nHost: 127.0.0.1:{edgePort}\r\nConnection: close\r\n");
        // The caller's identity (the tenant's API key, once the harness has one) goes along as its HttpClient would send it.
        foreach (var header in identity.DefaultRequestHeaders) head.Append($"{header.Key}: {string.Join(", ", header.Value)}\r\n");
        foreach (var (name, value) in request.Headers) head.Append($"{name}: {value}\r\n");
        if (request.Body is not null) head.Append($"Content-Length: {request.Body.Length}\r\n");
        head.Append("\r\n");
        return Encoding.UTF8.GetBytes(head.ToString());
    }

    private static async Task<(byte[] Bytes, bool Ended)> ReadAsync(Stream stream, bool headersOnly, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                received.Write(buffer, 0, read);
                if (headersOnly && HeadEnd(received.GetBuffer().AsSpan(0, (int)received.Length)) >= 0) return (received.ToArray(), false);
            }
            return (received.ToArray(), true);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            return (received.ToArray(), false);
        }
    }

    private static int HeadEnd(ReadOnlySpan<byte> bytes) => bytes.IndexOf("\r\n\r\n"u8);

    private static Answer Parse((byte[] Bytes, bool Ended) received)
    {
        var (bytes, ended) = received;
        var end = HeadEnd(bytes);
        if (end < 0) return new Answer(0, new Dictionary<string, string>(), Encoding.UTF8.GetString(bytes), ended);
        var lines = Encoding.ASCII.GetString(bytes, 0, end).Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1]);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0) headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
        }
        var body = bytes[(end + 4)..];
        if (headers.TryGetValue("transfer-encoding", out var coding) && coding.Contains("chunked")) body = Dechunk(body);
        return new Answer(status, headers, Encoding.UTF8.GetString(body), ended);
    }

    private static byte[] Dechunk(byte[] chunked)
    {
        var body = new MemoryStream();
        var at = 0;
        while (at < chunked.Length)
        {
            var lineEnd = chunked.AsSpan(at).IndexOf("\r\n"u8);
            if (lineEnd < 0) break;
            var size = Convert.ToInt32(Encoding.ASCII.GetString(chunked, at, lineEnd).Split(';')[0].Trim(), 16);
            at += lineEnd + 2;
            if (size == 0) break;
            body.Write(chunked, at, Math.Min(size, chunked.Length - at));
            at += size + 2;
        }
        return body.ToArray();
    }
}
