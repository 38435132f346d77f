using Npgsql;

namespace Vidline.ServiceDefaults;

/// <summary>
/// Tells an outage of PostgreSQL (unreachable, restarting, shutting down, out of connections) from a fault in the code
/// or the data. Work that failed for an outage should wait and try again for as long as it lasts; anything else is a
/// real failure.
/// </summary>
public static class DatabaseOutage
{
    /// <summary>Whether <paramref name="exception"/>, or any exception inside it, says the database is unavailable.</summary>
    public static bool IsCause(Exception exception) => exception switch
    {
        PostgresException postgres => IsOutageState(postgres.SqlState),
        NpgsqlException npgsql when npgsql.IsTransient => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsCause),
        _ => exception.InnerException is { } inner && IsCause(inner),
    };

    // 08: connection exception; 57: operator intervention (admin shutdown, crash shutdown, cannot connect now);
    // 53: insufficient resources (too many connections, disk full).
    private static bool IsOutageState(string sqlState) => sqlState.StartsWith("08") || sqlState.StartsWith("57") || sqlState.StartsWith("53");
}
