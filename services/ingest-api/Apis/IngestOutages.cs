using MassTransit;
using Npgsql;
using Vidline.ServiceDefaults;

namespace Vidline.IngestApi.Apis;

/// <summary>What ingest-api cannot reach for now: the database, the broker, or the saga's answer (see <see cref="OutageAnswer"/>).</summary>
public static class IngestOutages
{
    public static string? ReasonFor(Exception exception) => exception switch
    {
        RequestTimeoutException => "The job service did not answer in time. Try again shortly.",
        NpgsqlException when DatabaseOutage.IsTransient(exception) => "The database is unreachable. Try again shortly.",
        ConnectionException => "The message broker is unreachable. Try again shortly.",
        _ => null,
    };
}
