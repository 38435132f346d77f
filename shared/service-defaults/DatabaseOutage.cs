using System.Net.Sockets;
using MassTransit;
using Npgsql;

namespace Vidline.ServiceDefaults;

/// <summary>
/// Tells a database that is away (restarting, unreachable, out of connections) from a real bug, and lets a consumer
/// wait the outage out: the message stays unacknowledged in RabbitMQ, retried in process with backoff for as long
/// as the outage lasts, instead of using up the bus's few retries and landing in an <c>_error</c> queue.
/// </summary>
public static class DatabaseOutage
{
    /// <summary>Longest pause between two attempts while the database is away: how late a recovery is noticed.</summary>
    public static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(5);

    /// <summary>
    /// True for errors that go away by themselves: connection failures and broken connections (Npgsql's
    /// <c>IsTransient</c>, sockets, I/O, timeouts such as an exhausted pool), and the server's SQLSTATE classes
    /// 08 (connection exception), 53 (insufficient resources) and 57 (operator intervention: shutting down,
    /// starting up). A constraint violation or a bad statement is not: retrying it forever would hide a bug.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        // A cancelled command (the service stopping) carries the server's 57014 inside; it is not an outage.
        if (exception is OperationCanceledException) return false;
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException p:
                    return p.IsTransient || p.SqlState.StartsWith("08", StringComparison.Ordinal)
                           || p.SqlState.StartsWith("53", StringComparison.Ordinal) || p.SqlState.StartsWith("57", StringComparison.Ordinal);
                case NpgsqlException { IsTransient: true }:
                case SocketException or IOException or TimeoutException:
                    return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Retries a message whose consumer met a <see cref="IsTransient"/> database error until it succeeds (or the
    /// bus stops, which returns it to the queue), doubling the pause up to <see cref="LongestPause"/>. Any other
    /// error passes through to the bus's own retry and then the <c>_error</c> queue. Configure it on a receive
    /// endpoint (it then runs inside the bus-wide retry), e.g. for every endpoint of a service:
    /// <c>x.AddConfigureEndpointsCallback((_, _, e) =&gt; e.UseDatabaseOutageRetry())</c>.
    /// </summary>
    public static void UseDatabaseOutageRetry(this IConsumePipeConfigurator endpoint) =>
        endpoint.UseMessageRetry(r =>
        {
            r.Handle<Exception>(IsTransient);
            r.Exponential(int.MaxValue, TimeSpan.FromMilliseconds(200), LongestPause, TimeSpan.FromMilliseconds(200));
        });
}
