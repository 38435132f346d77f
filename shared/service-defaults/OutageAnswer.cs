using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Vidline.ServiceDefaults;

/// <summary>Why a request cannot be answered right now, or null when <paramref name="exception"/> is no outage.</summary>
public delegate string? OutageReason(Exception exception);

/// <summary>
/// A request that meets something out of reach for now (the database, the broker, an answer that did not come in
/// time, a full house of opening streams) is answered <c>503</c> problem+json with <c>Retry-After</c>: the client
/// is told to come back, not that the service broke. Each service says which exceptions are outages, and in what
/// words; any other exception stays a <c>500</c>. A response already under way (an open event stream) is left alone.
/// </summary>
public sealed class OutageAnswer(IProblemDetailsService problems, OutageReason reasons, ILogger<OutageAnswer> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        var reason = exception is ServiceUnavailableException unavailable ? unavailable.Message : reasons(exception);
        if (http.Response.HasStarted || reason is null) return false;
        logger.LogWarning("{Method} {Path} answered 503: {Reason}", http.Request.Method, http.Request.Path, exception.Message);
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = StatusCodes.Status503ServiceUnavailable, Title = "Service unavailable", Detail = reason },
        });
    }
}

/// <summary>Something a request needs is not ready yet, in the words the client is told (answered like any outage).</summary>
public sealed class ServiceUnavailableException(string reason) : Exception(reason);

public static class OutageAnswerRegistration
{
    /// <summary>Answers the outages <paramref name="reasons"/> recognises with <c>503</c> and <c>Retry-After</c>.</summary>
    public static IServiceCollection AddOutageAnswers(this IServiceCollection services, OutageReason reasons) =>
        services.AddSingleton(reasons).AddExceptionHandler<OutageAnswer>();
}
