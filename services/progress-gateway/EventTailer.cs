using Npgsql;
using Vidline.ServiceDefaults;

namespace Vidline.ProgressGateway;

/// <summary>
/// The one reader of new events on this instance: whichever instance stored an event, every instance's
/// clients see it. LISTEN wakes it promptly; a one-second poll covers a lost notification or a dropped
/// connection. It reads strictly after its cursor and below the horizon (<see cref="EventOrder"/>), so nothing is
/// dispatched twice or skipped.
///
/// The horizon is the oldest transaction running anywhere in the PostgreSQL cluster (another database, a psql session
/// left open): streams of one job must not wait for it. So while such streams are open, it also reads what has
/// committed past the horizon and publishes it flagged (<see cref="StoredEvent.PastHorizon"/>), for them only: one
/// job's ids commit in order, so each such event comes after every earlier one of its job. Each event is read there
/// once: it remembers the newest id read past the horizon, and the id ranges of the transactions that were still running
/// below it then (at most one per running transaction), until they have ended and been read.
/// </summary>
public sealed class EventTailer(NpgsqlDataSource dataSource, EventHistory history, LiveFeed feed, ILogger<EventTailer> logger)
    : BackgroundService
{
    private const int PageSize = 1000;
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _cursor = -1;
    private long _ahead;
    private List<(long From, long To)> _pending = [];
    private volatile bool _notified;
    private bool _databaseAway;

    /// <summary>
    /// Completes once the cursor is set. A stream must not subscribe before that: events stored between its
    /// replay and a later cursor start would reach neither path.
    /// </summary>
    public Task Ready => _ready.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, _) => _notified = true;
                await using (var listen = new NpgsqlCommand($"LISTEN {EventLog.Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);

                if (_cursor < 0)
                {
                    _cursor = await history.LatestIdAsync(stoppingToken);
                    _ready.TrySetResult();
                }
                if (_databaseAway)
                {
                    logger.LogInformation("Event tailer reconnected to the database; continuing after event {Cursor}", _cursor);
                    _databaseAway = false;
                }

                var heldBack = 0;
                while (true)
                {
                    // Cleared before reading: a notification that lands during the read triggers another one.
                    _notified = false;
                    await DrainAsync(stoppingToken);
                    // Events committed above the horizon wait for an older transaction, which may store nothing (and
                    // so never notify): streams of one job get them now, the others once it ends; look again soon,
                    // backing off while it stays open.
                    var held = await history.HeldBackAsync(stoppingToken);
                    if (held) await ReadPastHorizonAsync(stoppingToken);
                    heldBack = held ? heldBack + 1 : 0;
                    var wait = heldBack == 0 ? Poll : TimeSpan.FromMilliseconds(Math.Min(Poll.TotalMilliseconds, 2 << Math.Min(heldBack, 10)));
                    if (!_notified) await connection.WaitAsync(wait, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (DatabaseOutage.IsTransient(e))
            {
                // Once per outage, not once a second: open streams keep their heartbeats meanwhile.
                if (!_databaseAway) logger.LogWarning("Event tailer lost the database ({Reason}); reconnecting every second", e.Message);
                _databaseAway = true;
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { });
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Event tailer lost its connection; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { });
            }
        }
    }

    private async Task DrainAsync(CancellationToken ct)
    {
        while (true)
        {
            var page = await history.ReadAfterAsync(_cursor, null, PageSize, ct);
            if (page.Count == 0) return;
            feed.Publish(page);
            _cursor = page[^1].Id;
            if (page.Count < PageSize) return;
        }
    }

    private async Task ReadPastHorizonAsync(CancellationToken ct)
    {
        if (!feed.HasOneJobSubscribers)
        {
            // Nobody to read for: start again from the cursor (a new stream replays what came before it).
            (_ahead, _pending) = (_cursor, []);
            return;
        }
        while (true)
        {
            var ahead = Math.Max(_ahead, _cursor);
            var (page, running) = await history.ReadPastHorizonAsync(_cursor, ahead, _pending, PageSize, ct);
            feed.Publish(page);
            var full = page.Count == PageSize;
            var last = page.Count > 0 ? page[^1].Id : long.MinValue;
            var stillRunning = running.ToHashSet();

            // A range stays pending while its transaction runs, or (a full page) for the part not reached yet.
            var pending = new List<(long From, long To)>();
            foreach (var (from, to) in _pending)
                if (stillRunning.Remove(to >> 16)) pending.Add((from, to));
                else if (full && to > last) pending.Add((Math.Max(from, last), to));
            _ahead = Math.Max(ahead, last);
            // Transactions running now may still commit ids up to the newest read; later ones come after it.
            foreach (var xid in stillRunning)
                if (xid << 16 <= _ahead) pending.Add(((xid << 16) - 1, (xid << 16) + EventOrder.PerTransaction));
            _pending = pending.Where(p => p.To > _cursor).ToList();
            if (!full) return;
        }
    }
}
