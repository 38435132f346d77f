using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vidline.Contracts;

namespace Vidline.ServiceDefaults;

/// <summary>
/// The job id as a log scope (<c>JobId</c>), so one job's lines can be followed across every service: on each message
/// that names a job, and on each HTTP request whose route names one (<c>/jobs/{id}/...</c>).
/// </summary>
public static class JobLogScope
{
    public const string JobId = "JobId";

    /// <summary>The request id the edge gives each request (nginx's <c>$request_id</c>), to match its access log.</summary>
    public const string EdgeRequestHeader = "X-Request-ID";

    public static IDisposable? Begin(ILogger logger, Guid jobId) => logger.BeginScope(new LogScope([new(JobId, jobId)]));

    /// <summary>HTTP: the route's job id and the edge's request id (ASP.NET Core adds its own RequestId and TraceId).</summary>
    public static IApplicationBuilder UseJobLogScope(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Vidline.Http");
        return app.Use(async (context, next) =>
        {
            var scope = new List<KeyValuePair<string, object?>>();
            if (context.GetRouteValue("id") is string id && Guid.TryParse(id, out var jobId)) scope.Add(new(JobId, jobId));
            if (context.Request.Headers[EdgeRequestHeader].ToString() is { Length: > 0 } edgeRequest) scope.Add(new("EdgeRequestId", edgeRequest));
            using (scope.Count > 0 ? logger.BeginScope(new LogScope(scope)) : null) await next(context);
        });
    }
}

/// <summary>
/// Named values for a log scope. The JSON console formatter writes each pair as a property of the scope and
/// <see cref="ToString"/> as its <c>Message</c> (a plain dictionary would print its type name there).
/// </summary>
public sealed class LogScope(IReadOnlyList<KeyValuePair<string, object?>> values) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => values.Count;
    public KeyValuePair<string, object?> this[int index] => values[index];
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => values.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    public override string ToString() => string.Join(" ", values.Select(v => $"{v.Key}:{v.Value}"));
}

/// <summary>A consume filter: every message about a job is consumed inside the job's log scope.</summary>
public sealed class JobLogScopeFilter<T>(ILoggerFactory loggers) : IFilter<ConsumeContext<T>> where T : class
{
    private readonly ILogger _logger = loggers.CreateLogger("Vidline.Messages");

    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        using (context.Message is IJobMessage message ? JobLogScope.Begin(_logger, message.JobId) : null)
            await next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("jobLogScope");
}
