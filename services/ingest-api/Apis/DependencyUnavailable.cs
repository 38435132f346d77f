using MassTransit;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;
using Vidline.ServiceDefaults;

namespace Vidline.IngestApi.Apis;

/// <summary>
/// A request that needs what is out of reach for now — the database, the broker, or the saga's answer that did not come
/// in time — is answered <c>503</c> problem+json with <c>Retry-After</c>: the client may try again, nothing is broken.
/// Any other exception stays a <c>500</c>.
/// </summary>
public sealed class DependencyUnavailable(IProblemDetailsService problems, ILogger<DependencyUnavailable> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        if (ReasonFor(exception) is not { } detail) return false;
        logger.LogWarning("{Method} {Path} answered 503: {Reason}", http.Request.Method, http.Request.Path, exception.Message);
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = StatusCodes.Status503ServiceUnavailable, Title = "Service unavailable", Detail = detail },
        });
    }

    /// <summary>What the client is told, or null when <paramref name="exception"/> is not an outage.</summary>
    public static string? ReasonFor(Exception exception) => exception switch
    {
        RequestTimeoutException => "The job service did not answer in time. Try again shortly.",
        NpgsqlException when DatabaseOutage.IsTransient(exception) => "The database is unreachable. Try again shortly.",
        ConnectionException => "The message broker is unreachable. Try again shortly.",
        _ => null,
    };
}
