using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.ProgressGateway.Operations;

/// <summary>What the gateway serves for operators and API clients besides the API itself.</summary>
public static class GatewayOperations
{
    public static IHostApplicationBuilder AddGatewayOperations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(ServiceAddresses.From(builder.Configuration));
        builder.Services.AddHttpClient(nameof(SystemHealth));
        builder.Services.AddSingleton<SystemHealth>();
        builder.Services.AddSingleton<WorkingNodes>();
        builder.Services.AddOpenApi(o => o.DescribeApiKeys());
        builder.Services.AddHttpClient(nameof(PublicApiDocument));
        builder.Services.AddSingleton<PublicApiDocument>();
        return builder;
    }

    /// <summary>
    /// The edge's <c>/health</c> (always 200 while the gateway answers; <c>status</c> says whether every service is ready)
    /// and <c>/health/ready</c> (503 unless every service is ready), which the edge maps to <c>/health/system[/ready]</c>;
    /// <c>/openapi.json</c> (the whole public API) and <c>/api</c> (a page that reads it).
    /// </summary>
    public static IEndpointRouteBuilder MapGatewayOperations(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/system", async (SystemHealth health, CancellationToken ct) => TypedResults.Ok(await health.CheckAsync(ct)))
            .ExcludeFromDescription().AllowAnonymous();
        app.MapGet("/health/system/ready", async (SystemHealth health, CancellationToken ct) =>
        {
            var reply = await health.CheckAsync(ct);
            return Results.Json(reply, Vidline.ServiceDefaults.ServiceDefaults.ApiJson,
                statusCode: reply.Status == Vidline.ServiceDefaults.HealthEndpoints.Healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).ExcludeFromDescription().AllowAnonymous();
        return app.MapPublicApiDocument();
    }
}
