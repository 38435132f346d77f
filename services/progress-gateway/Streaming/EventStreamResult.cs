using Microsoft.AspNetCore.Http.Features;
using Vidline.ProgressGateway.Access;
using Vidline.ServiceDefaults;

namespace Vidline.ProgressGateway.Streaming;

/// <summary>
/// Writes one client's event stream: the prelude (snapshots), then a replay from the database of
/// everything after <c>cursor</c>, then live events. The live subscription was opened before the replay
/// query ran, so together they cover every id; ids at or below the last one sent are skipped, so nothing
/// arrives twice. A per-job stream follows one run of its job (<c>endsRun</c>) and ends at that run's
/// <c>done</c>; an older run's <c>done</c> (a retried job has one per run) passes like any other event.
/// Events after <c>cursor</c> that the prelude's snapshots already reflect (<c>alreadySent</c>) are not sent.
/// </summary>
public sealed class EventStreamResult(
    IReadOnlyList<SseFrame> prelude,
    long cursor,
    LiveFeed.Subscription subscription,
    IDisposable openingTurn,
    EventHistory history,
    SseOptions options,
    int? endsRun,
    ReflectedEvents? alreadySent = null) : IResult
{
    // Small pages: a replay's memory is one page per stream, however far behind the client is.
    private const int ReplayPage = 200;

    // Dropped once written, so a long-lived stream does not keep its snapshots alive.
    private IReadOnlyList<SseFrame>? _prelude = prelude;

    private TimeSpan Heartbeat => TimeSpan.FromSeconds(Math.Max(1, options.HeartbeatSeconds));

    public async Task ExecuteAsync(HttpContext http)
    {
        using var _ = subscription;
        using var __ = openingTurn;
        // Shutdown ends streams too (the host would otherwise wait for them until its timeout); clients
        // reconnect with Last-Event-ID to another instance and miss nothing.
        var stopping = http.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
        var ct = linked.Token;
        var response = http.Response;
        var links = http.RequestServices.GetRequiredService<OutputLinks>();
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx: pass each event on as it is written
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        try
        {
            await Write(response, new SseFrame(RetryMilliseconds: options.RetryMilliseconds), ct);
            foreach (var frame in _prelude!) await Write(response, frame, ct);
            _prelude = null;
            await response.Body.FlushAsync(ct);

            var last = cursor;
            var replayed = 0;
            try
            {
                while (true)
                {
                    var page = await ReadPageAsync(response, last, ct);
                    replayed += page.Count;
                    foreach (var e in page)
                    {
                        last = e.Id;
                        if (alreadySent?.Covers(e.Id) == true) continue;
                        await response.WriteAsync(WireOf(e, links), ct);
                        if (endsRun is { } run && e.EndsRun(run)) { await response.Body.FlushAsync(ct); return; }
                    }
                    await response.Body.FlushAsync(ct);
                    if (page.Count < ReplayPage) break;
                }
            }
            finally
            {
                GatewayMetrics.ReplaySize.Record(replayed, GatewayMetrics.StreamTag(subscription.Scope));
                // Opened: from here on the stream holds only its place in the live feed.
                openingTurn.Dispose();
            }

            var reader = subscription.Reader;
            while (true)
            {
                var ready = reader.WaitToReadAsync(ct).AsTask();
                while (true)
                {
                    try { await ready.WaitAsync(Heartbeat, ct); break; }
                    catch (TimeoutException)
                    {
                        // Keeps proxies from timing the connection out and tells the client it is still alive.
                        await Write(response, SseFrame.Heartbeat, ct);
                        await response.Body.FlushAsync(ct);
                    }
                }
                if (!await ready) return; // the feed was shut down

                while (reader.TryRead(out var e))
                {
                    if (e.Id <= last) continue;
                    last = e.Id;
                    if (alreadySent?.Covers(e.Id) == true) continue;
                    await response.WriteAsync(WireOf(e, links), ct);
                    if (endsRun is { } run && e.EndsRun(run)) { await response.Body.FlushAsync(ct); return; }
                }
                await response.Body.FlushAsync(ct);
            }
        }
        catch (SubscriberTooSlowException)
        {
            // Ending the response is the signal: the browser reconnects with Last-Event-ID and catches up
            // from the database at its own pace.
            await Write(response, new SseFrame(Comment: "too far behind; reconnect with Last-Event-ID"), CancellationToken.None);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away, or this instance is stopping.
        }
    }

    /// <summary>
    /// A replay page; while the database is away the stream stays open on heartbeats and reads again when it is
    /// back, from where it left off: nothing is missed or sent twice.
    /// </summary>
    private async Task<IReadOnlyList<StoredEvent>> ReadPageAsync(HttpResponse response, long after, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                return await history.ReadAfterAsync(after, subscription.Filter, ReplayPage, ct);
            }
            catch (Exception e) when (DatabaseOutage.IsTransient(e))
            {
                await Write(response, SseFrame.Heartbeat, ct);
                await response.Body.FlushAsync(ct);
                await Task.Delay(Heartbeat, ct);
            }
        }
    }

    /// <summary>
    /// An event as this client gets it. A <c>done</c> carries the job's result, whose output URLs are signed as it is sent
    /// (they expire, so they cannot be stored); every other event is the shared, preformatted text.
    /// </summary>
    private static string WireOf(StoredEvent e, OutputLinks links) =>
        e.Type == Vidline.Contracts.EventTypes.Done ? new SseFrame(e.Type, links.SignAll(e.Data, e.JobId), e.Id).ToString() : e.Wire;

    private static Task Write(HttpResponse response, SseFrame frame, CancellationToken ct) =>
        response.WriteAsync(frame.ToString(), ct);
}
