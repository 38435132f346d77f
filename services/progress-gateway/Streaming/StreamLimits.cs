using Vidline.ServiceDefaults.Limits;

namespace Vidline.ProgressGateway.Streaming;

public static class StreamLimits
{
    /// <summary>
    /// An event stream counts against its tenant's open streams (<c>RateLimits:StreamsPerTenant</c>, 429 beyond) for
    /// as long as it is open, and no request timeout ever cuts it.
    /// </summary>
    public static RouteHandlerBuilder LimitedAsStream(this RouteHandlerBuilder endpoint)
    {
        endpoint.RequireRateLimiting(TenantRateLimits.Streams).DisableRequestTimeout();
        return endpoint.ProducesProblem(StatusCodes.Status429TooManyRequests);
    }
}
