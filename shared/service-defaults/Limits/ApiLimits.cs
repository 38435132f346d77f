using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Vidline.ServiceDefaults.Limits;

/// <summary>Section <c>RequestTimeouts</c>.</summary>
public sealed class RequestTimeoutOptions
{
    /// <summary>
    /// How long an ordinary request may take; event streams and uploads opt out (they are long by nature). Longer than
    /// the 30 s a saga request waits for its answer, which has an answer of its own (503).
    /// </summary>
    public int Seconds { get; set; } = 60;
}

/// <summary>
/// The limits of a public API service: per-tenant rate limits (<see cref="TenantRateLimits"/>), the CORS allow-list
/// (<c>Cors:AllowedOrigins</c>; none by default: same-origin only) and request timeouts. Host filtering
/// (<c>AllowedHosts</c>) is ASP.NET Core's own; its refusal is answered as problem+json (<see cref="OutermostStatusPages"/>).
/// </summary>
public static class ApiLimits
{
    public static IHostApplicationBuilder AddApiLimits(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddTenantRateLimits(configuration);
        var origins = AllowedOrigins(configuration);
        services.AddCors(cors => cors.AddDefaultPolicy(policy => policy
            .WithOrigins(origins)
            .AllowAnyMethod()
            .AllowAnyHeader()
            .WithExposedHeaders("Location", "Retry-After", "Idempotent-Replayed")));
        var timeout = TimeSpan.FromSeconds(Math.Max(1, configuration.GetValue("RequestTimeouts:Seconds", new RequestTimeoutOptions().Seconds)));
        services.AddRequestTimeouts(o => o.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = timeout,
            TimeoutStatusCode = StatusCodes.Status504GatewayTimeout,
            WriteTimeoutResponse = http => http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails =
                {
                    Status = StatusCodes.Status504GatewayTimeout,
                    Title = "Request timed out",
                    Detail = $"The request took longer than {timeout.TotalSeconds:0} s and was stopped. Try again.",
                },
            }).AsTask(),
        });
        return builder;
    }

    /// <summary>The CORS allow-list. Call it before authentication: a browser's preflight carries no key.</summary>
    public static WebApplication UseCrossOrigin(this WebApplication app)
    {
        app.UseCors();
        return app;
    }

    /// <summary>
    /// The rate limiter and request timeouts. Call it after authentication and authorization, so that a rate limit
    /// counts against the tenant (a stream token's tenant too: the stream policy authenticates it), and before the endpoints.
    /// </summary>
    public static WebApplication UseApiLimits(this WebApplication app)
    {
        app.UseRateLimiter();
        app.UseRequestTimeouts();
        return app;
    }

    /// <summary>
    /// <c>Cors:AllowedOrigins</c>: origins separated by <c>;</c>, as <c>AllowedHosts</c> lists hosts. A wildcard is refused at
    /// start: the API carries tenants' keys, and "any origin" is never what was meant.
    /// </summary>
    public static string[] AllowedOrigins(IConfiguration configuration)
    {
        var origins = (configuration["Cors:AllowedOrigins"] ?? "")
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(o => o.TrimEnd('/')).ToArray();
        if (origins.Any(o => o.Contains('*')))
            throw new InvalidOperationException("Cors:AllowedOrigins may not contain '*': list each origin that may call the API.");
        return origins;
    }
}
