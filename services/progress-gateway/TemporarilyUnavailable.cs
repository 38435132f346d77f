using Microsoft.AspNetCore.Diagnostics;
using Vidline.ProgressGateway.Streaming;
using Vidline.ServiceDefaults;

namespace Vidline.ProgressGateway;

/// <summary>
/// A read that meets a database outage, waits too long for a pooled connection (Npgsql's <c>Timeout</c> bounds
/// that wait) or for a turn to open a stream (<see cref="StreamOpenings"/>) answers <c>503</c> problem+json with
/// <c>Retry-After</c>: the client is told to come back, not that the gateway broke. An open event stream is not
/// affected; it keeps its connection and its heartbeats.
/// </summary>
public sealed class TemporarilyUnavailable(IProblemDetailsService problems, ILogger<TemporarilyUnavailable> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var busy = exception is StreamOpenings.TooManyException;
        if (!(busy || DatabaseOutage.IsTransient(exception)) || http.Response.HasStarted) return false;
        logger.LogWarning("{Path}: answered 503 ({Reason})", http.Request.Path, exception.Message);
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Temporarily unavailable",
                Detail = busy
                    ? $"Too many streams are opening at once; try again in {RetryAfterSeconds} s."
                    : $"The job store cannot be reached right now; try again in {RetryAfterSeconds} s.",
            },
        });
    }
}
