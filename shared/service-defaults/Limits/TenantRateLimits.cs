using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Vidline.ServiceDefaults.Limits;

/// <summary>Section <c>RateLimits</c>: what one tenant may do.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Jobs one tenant may create per minute (POST /process), with a burst of as many.</summary>
    public int JobsPerMinute { get; set; } = 300;

    /// <summary>Event streams one tenant may hold open at once on one gateway instance.</summary>
    public int StreamsPerTenant { get; set; } = 1000;
}

/// <summary>
/// Per-tenant limits with ASP.NET Core's rate limiter: an endpoint opts in with
/// <c>RequireRateLimiting(TenantRateLimits.JobCreation)</c> or <c>(TenantRateLimits.Streams)</c>. A refused request gets
/// <c>429</c> problem+json with <c>Retry-After</c>.
/// </summary>
public static class TenantRateLimits
{
    public const string JobCreation = "job-creation";
    public const string Streams = "streams";

    /// <summary>When the limiter cannot tell (a concurrency limit frees up whenever a stream ends): try again soon.</summary>
    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddTenantRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var limits = configuration.GetSection("RateLimits").Get<RateLimitOptions>() ?? new RateLimitOptions();
        return services.AddRateLimiter(rateLimiter =>
        {
            // Job creation refills smoothly: one job every 60 s / JobsPerMinute, up to a minute's worth at once.
            rateLimiter.AddPolicy(JobCreation, http => RateLimitPartition.GetTokenBucketLimiter(PartitionOf(http), _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(1, limits.JobsPerMinute),
                TokensPerPeriod = 1,
                ReplenishmentPeriod = TimeSpan.FromMinutes(1) / Math.Max(1, limits.JobsPerMinute),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
            // A stream holds its permit for as long as it is open.
            rateLimiter.AddPolicy(Streams, http => RateLimitPartition.GetConcurrencyLimiter(PartitionOf(http), _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = Math.Max(1, limits.StreamsPerTenant),
                QueueLimit = 0,
            }));
            rateLimiter.OnRejected = RejectAsync;
        });
    }

    /// <summary>
    /// Whose budget a request spends: its tenant once authenticated, else the address the connection comes from. Behind
    /// the edge every anonymous caller shares the edge's address: forwarded headers are not trusted (a client could name
    /// any address in them), and per-address limits are the edge's job.
    /// </summary>
    public static string PartitionOf(HttpContext http) =>
        http.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } tenant }
            ? $"tenant:{tenant}"
            : $"address:{http.Connection.RemoteIpAddress}";

    private static async ValueTask RejectAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : DefaultRetryAfter;
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"This client has reached its limit for this kind of request (RateLimits). Try again in {seconds} s.",
            },
        });
    }
}
