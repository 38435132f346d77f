using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vidline.ServiceDefaults.Limits;
using Vidline.ServiceDefaults.Metrics;

namespace Vidline.ServiceDefaults;

public static class ServiceDefaults
{
    /// <summary>
    /// What every Vidline service has: its identity (<paramref name="serviceName"/> as in services/services.tsv),
    /// problem+json errors without stack traces, snake_case JSON, health checks.
    /// </summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder, string serviceName)
    {
        builder.Services.AddSingleton(ServiceIdentity.For(serviceName, builder.Configuration));
        // One JSON object per line, with scopes: the job id (JobLogScope) and ASP.NET Core's RequestId/TraceId.
        builder.Logging.AddJsonConsole(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        builder.Services.AddProblemDetails();
        // Host filtering answers an unknown host with an empty 400, which the outermost status pages turn into problem+json.
        builder.Services.Configure<HostFilteringOptions>(o => o.IncludeFailureMessage = false);
        builder.Services.Insert(0, ServiceDescriptor.Transient<IStartupFilter, OutermostStatusPages>());
        builder.Services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower;
        });
        builder.Services.AddHealthChecks();
        builder.Services.AddSingleton(sp => new PrometheusExporter(ExportedMeters(sp.GetRequiredService<IMeterFactory>())));
        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler(); // error responses without a body become problem+json in OutermostStatusPages
        app.UseJobLogScope();
        app.MapHealth();
        // Created now, not at the first scrape, so nothing measured before it is lost.
        var exporter = app.Services.GetRequiredService<PrometheusExporter>();
        app.MapGet("/metrics", () => Results.Text(exporter.Scrape(), PrometheusExporter.ContentType)).ExcludeFromDescription().AllowAnonymous();
        return app;
    }

    /// <summary>
    /// Vidline's own meters (static, one per service area, named <c>Vidline.*</c>) and the meters this host created
    /// (ASP.NET Core's request durations among them) — not another host's in the same process, as in tests.
    /// </summary>
    private static Func<Meter, bool> ExportedMeters(IMeterFactory hostMeters) =>
        meter => meter.Scope == hostMeters || (meter.Scope is null && meter.Name.StartsWith("Vidline.", StringComparison.Ordinal));

    /// <summary>The JSON options the public API uses, for code that serialises outside minimal APIs (SSE data).</summary>
    public static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}
