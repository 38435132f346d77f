using Microsoft.Extensions.Options;
using Npgsql;
using Vidline.Media.Storage;

namespace Vidline.ProgressGateway;

/// <summary>
/// Forgets jobs older than <c>Retention:Days</c> (their events go with them, ON DELETE CASCADE) and removes
/// their files from shared storage. Any instance may run it; the DELETE makes concurrent sweeps harmless.
/// </summary>
public sealed class RetentionSweep(NpgsqlDataSource dataSource, IOptions<RetentionOptions> retention,
    IMediaStore store, ILogger<RetentionSweep> logger) : BackgroundService
{

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(Math.Max(0.01, retention.Value.SweepMinutes)));
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Retention sweep failed; trying again next interval");
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <returns>The ids of the jobs removed.</returns>
    public async Task<IReadOnlyList<Guid>> SweepAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            DELETE FROM jobs WHERE COALESCE(completed_at, updated_at) < now() - make_interval(secs => @seconds)
            RETURNING id
            """);
        command.Parameters.AddWithValue("seconds", TimeSpan.FromDays(retention.Value.Days).TotalSeconds);
        var removed = new List<Guid>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) removed.Add(reader.GetGuid(0));

        foreach (var jobId in removed) await DeleteFilesAsync(jobId);
        if (removed.Count > 0) logger.LogInformation("Retention removed {Count} jobs", removed.Count);
        return removed;
    }

    private async Task DeleteFilesAsync(Guid jobId)
    {
        foreach (var prefix in new[] { StorageKeys.Outputs(jobId), StorageKeys.Work(jobId), StorageKeys.Uploads(jobId) })
        {
            try
            {
                await store.DeletePrefixAsync(prefix, CancellationToken.None);
            }
            catch (IOException e)
            {
                // Another process may still hold a file; the row is gone, so log it for an operator.
                logger.LogWarning(e, "Could not delete {Prefix}", prefix);
            }
        }
    }
}
