using Npgsql;
using Vidline.ServiceDefaults;

namespace Vidline.ProgressGateway;

/// <summary>
/// The one reader of new events on this instance: whichever instance stored an event, every instance's
/// clients see it. LISTEN wakes it promptly; a one-second poll covers a lost notification or a dropped
/// connection. It reads strictly after its cursor and below the horizon (<see cref="EventOrder"/>), so nothing is
/// dispatched twice or skipped.
/// </summary>
public sealed class EventTailer(NpgsqlDataSource dataSource, EventHistory history, LiveFeed feed, ILogger<EventTailer> logger)
    : BackgroundService
{
    private const int PageSize = 1000;
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _cursor = -1;
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
                    // so never notify): look again soon, backing off while it stays open.
                    heldBack = await history.HeldBackAsync(stoppingToken) ? heldBack + 1 : 0;
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
}
