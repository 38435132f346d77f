using Vidline.ProgressGateway.Streaming;
using Vidline.ServiceDefaults;

namespace Vidline.ProgressGateway;

/// <summary>
/// What the gateway cannot serve for now (see <see cref="OutageAnswer"/>): a read that meets a database outage or waits
/// too long for a pooled connection (Npgsql's <c>Timeout</c> bounds that wait), or a stream that waited too long for
/// its turn to open (<see cref="StreamOpenings"/>). An open event stream is not affected: it keeps its heartbeats.
/// </summary>
public static class GatewayOutages
{
    public static string? ReasonFor(Exception exception) => exception switch
    {
        StreamOpenings.TooManyException => $"Too many streams are opening at once; try again in {OutageAnswer.RetryAfterSeconds} s.",
        _ when DatabaseOutage.IsTransient(exception) => $"The job store cannot be reached right now; try again in {OutageAnswer.RetryAfterSeconds} s.",
        _ => null,
    };
}
