using System.Net;
using System.Net.Http.Headers;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// A client of one job's SSE stream through the edge, as a browser's EventSource behaves: it reads from the
/// job's first event, and on any disconnect (a dead gateway, a dropped connection, a stream silent for longer
/// than a few heartbeats) it reconnects with Last-Event-ID, until it has seen the <c>done</c> of every run it
/// waits for. Afterwards it says what a client would have got wrong: duplicates, gaps, progress going backwards.
/// </summary>
public sealed class StreamWitness : IAsyncDisposable
{
    /// <summary>Heartbeats come every 2 s in the tests: a stream this quiet is dead, though its socket may not know it.</summary>
    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(10);
    private readonly HttpClient _edge;
    private readonly Guid _jobId;
    private readonly int _runs;
    private readonly List<SseEvent> _events = [];
    private readonly CancellationTokenSource _stop = new();

    public Task Finished { get; }
    public int Reconnects { get; private set; }

    private StreamWitness(HttpClient edge, Guid jobId, int runs)
    {
        (_edge, _jobId, _runs) = (edge, jobId, runs);
        Finished = Task.Run(FollowAsync);
    }

    /// <summary>Starts following <paramref name="jobId"/> until <paramref name="runs"/> runs have sent their <c>done</c>.</summary>
    public static StreamWitness Follow(HttpClient edge, Guid jobId, int runs = 1) => new(edge, jobId, runs);

    public IReadOnlyList<SseEvent> Events
    {
        get { lock (_events) return _events.ToList(); }
    }

    /// <summary>Waits until an event matching <paramref name="sign"/> arrives: the moment a test strikes.</summary>
    public async Task<SseEvent> WaitForAsync(Func<SseEvent, bool> sign, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Events.FirstOrDefault(sign) is { } seen) return seen;
            await Task.Delay(100);
        }
        throw new TimeoutException($"the stream of {_jobId} never showed the sign to strike at; it showed:\n{Trace()}");
    }

    /// <summary>
    /// What this client got wrong, measured against <paramref name="history"/> (the job's whole stored stream,
    /// read afterwards from id 0): every event exactly once, one <c>done</c> per run, and overall progress that never goes back.
    /// </summary>
    public IReadOnlyList<string> Findings(IReadOnlyList<SseEvent> history)
    {
        var events = Events;
        var findings = new List<string>();
        var duplicates = events.GroupBy(e => e.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key} ×{g.Count()}").ToList();
        if (duplicates.Count > 0) findings.Add($"SSE: events delivered more than once: {string.Join(", ", duplicates)}");
        var seen = events.Select(e => e.Id).ToHashSet();
        var missed = history.Where(e => !seen.Contains(e.Id)).Select(e => $"{e.Id}:{e.Type}").ToList();
        if (missed.Count > 0) findings.Add($"SSE: stored events the client never got: {string.Join(", ", missed)}");
        var dones = events.Count(e => e.Type == "done");
        if (dones != _runs) findings.Add($"SSE: {dones} `done` events for {_runs} run(s)");
        var backwards = Backwards(events);
        if (backwards.Count > 0)
            findings.Add($"SSE: progress went backwards {backwards.Count} times, e.g. {string.Join("; ", backwards.Take(5))}");
        return findings;
    }

    /// <summary>One line for the test output: how the client fared.</summary>
    public string Summary()
    {
        var events = Events;
        // Where the job's time went, from the events' own timestamps (first to last progress event of each stage).
        var stages = events.Where(e => e.Type == "progress")
            .GroupBy(e => e.Json.GetProperty("stage").GetString())
            .Select(g => $"{g.Key} {(g.Max(Stamp) - g.Min(Stamp)).TotalSeconds:0.0} s");
        return $"stream: {events.Count} events, {Reconnects} reconnects, progress backwards {Backwards(events).Count} times; {string.Join(", ", stages)}";
    }

    public string Trace() => string.Join("\n", Events.Select(e => $"{e.Id} {e.Type} {e.Data[..Math.Min(140, e.Data.Length)]}"));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await Finished; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }

    private static DateTimeOffset Stamp(SseEvent e) => e.Json.GetProperty("timestamp").GetDateTimeOffset();

    private static List<string> Backwards(IReadOnlyList<SseEvent> events)
    {
        var found = new List<string>();
        double? last = null;
        foreach (var e in events.Where(e => e.Type == "progress"))
        {
            var progress = e.Json.GetProperty("progress").GetDouble();
            if (progress < last) found.Add($"{last} → {progress} at id {e.Id} ({e.Json.GetProperty("stage").GetString()})");
            last = progress;
        }
        return found;
    }

    private async Task FollowAsync()
    {
        var connected = false;
        while (!_stop.IsCancellationRequested && DonesSeen() < _runs)
        {
            if (connected) Reconnects++;
            connected = await ReadOnceAsync();
            if (DonesSeen() < _runs) await Task.Delay(300, _stop.Token);
        }
    }

    /// <summary>One connection, read until it ends or falls silent; false if it could not be opened at all.</summary>
    private async Task<bool> ReadOnceAsync()
    {
        using var silence = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        silence.CancelAfter(Silence);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/jobs/{_jobId}/stream");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        // From the job's first event; afterwards from the last one seen, as EventSource does.
        request.Headers.Add("Last-Event-ID", Events.LastOrDefault()?.Id ?? "0");
        try
        {
            using var response = await _edge.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, silence.Token);
            // 404 before the gateway knows the job, 502 while it is down, 204 while a retried job's new run has not begun.
            if (response.StatusCode != HttpStatusCode.OK) return false;
            await SseEvent.ReadAsync(await response.Content.ReadAsStreamAsync(silence.Token),
                e => { lock (_events) _events.Add(e); },
                () => silence.CancelAfter(Silence),
                silence.Token);
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !_stop.IsCancellationRequested)) { }
        return true;
    }

    private int DonesSeen()
    {
        lock (_events) return _events.Count(e => e.Type == "done");
    }
}
