using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Vidline.ServiceDefaults;

/// <summary>A service's health as the API documents it.</summary>
public sealed record HealthReply(
    string Status,
    string Service,
    string Version,
    string? Node = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, CheckReply>? Checks = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Failing = null);

/// <summary>One readiness check's outcome.</summary>
public sealed record CheckReply(
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description = null);

/// <summary>
/// <c>GET /health</c>: liveness, no checks — the process answers. <c>GET /health/ready</c>: every registered check
/// (RabbitMQ from MassTransit's bus, PostgreSQL where the service has a database, storage where it writes files);
/// <c>503</c> with the failing checks named when one is not healthy.
/// </summary>
public static class HealthEndpoints
{
    public const string Healthy = "healthy";
    public const string Unhealthy = "unhealthy";

    /// <summary>The API's JSON, readable on a terminal: a version's "+" stays "+" (this is never embedded in HTML).</summary>
    private static readonly JsonSerializerOptions ReplyJson = new(ServiceDefaults.ApiJson) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                // Ready means able to work now: a degraded bus (an endpoint not yet connected) is not.
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = WriteAsync,
        }).AllowAnonymous();
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var identity = context.RequestServices.GetRequiredService<ServiceIdentity>();
        var checks = report.Entries.ToDictionary(e => e.Key,
            e => new CheckReply(Name(e.Value.Status), e.Value.Status == HealthStatus.Healthy ? null : e.Value.Description ?? e.Value.Exception?.Message));
        var failing = checks.Where(c => c.Value.Status != Healthy).Select(c => c.Key).ToList();
        var reply = new HealthReply(failing.Count == 0 ? Healthy : Unhealthy, identity.Name, identity.Version, identity.Node,
            checks.Count == 0 ? null : checks, failing.Count == 0 ? null : failing);
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(reply, ReplyJson));
    }

    private static string Name(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => Healthy,
        HealthStatus.Degraded => "degraded",
        _ => Unhealthy,
    };
}

/// <summary>Readiness: PostgreSQL answers a query through the service's own pool.</summary>
public sealed class PostgresReachable(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL is not reachable: {e.Message}");
        }
    }
}
