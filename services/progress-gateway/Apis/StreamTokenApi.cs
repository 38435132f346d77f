using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Vidline.ProgressGateway.Access;
using Vidline.ServiceDefaults;
using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.ProgressGateway.Apis;

/// <summary>What a browser asks for before it opens an EventSource: <c>{ "jobs": [ids], "ttl_seconds": n }</c>, both optional.</summary>
public sealed record StreamTokenRequest(string[]? Jobs, int? TtlSeconds);

public sealed record StreamTokenAnswer(string Token, DateTimeOffset ExpiresAt);

/// <summary>
/// POST /streams/token: an API key buys a short-lived stream token, answered in the body (for <c>?access_token=</c>)
/// and as an HttpOnly cookie (sent by EventSource on its own). A client renews it before <c>expires_at</c>.
/// </summary>
public static class StreamTokenApi
{
    private const long MaxBodyBytes = 16 * 1024;

    public static IEndpointRouteBuilder MapStreamTokenApi(this IEndpointRouteBuilder app)
    {
        // An API key buys it (the fallback policy: a stream token never buys another).
        app.MapPost("/streams/token", Issue)
            .WithSummary("A stream token for EventSource")
            .WithDescription($"Optional JSON body {{\"jobs\": [ids], \"ttl_seconds\": n}}: at most {StreamTokenOptions.MaxJobs} job ids, " +
                             $"1 to {StreamTokenOptions.MaxLifetimeSeconds} seconds. Pass the token as ?access_token= on GET /jobs/{{id}}/stream " +
                             "and GET /progress/stream, or let the browser send the vidline_stream cookie set with it.")
            .Accepts<StreamTokenRequest>("application/json")
            .Produces<StreamTokenAnswer>()
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status413PayloadTooLarge);
        return app;
    }

    private static async Task<IResult> Issue(HttpContext http, StreamTokens tokens, IOptions<StreamTokenOptions> options, TimeProvider clock)
    {
        if (http.Request.ContentLength > MaxBodyBytes) return TooLarge();
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxBodyBytes;

        StreamTokenRequest? request;
        try
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body, http.RequestAborted);
            if (body.Length > MaxBodyBytes) return TooLarge();
            request = body.Length == 0 ? null : JsonSerializer.Deserialize<StreamTokenRequest>(body.ToArray(), ServiceDefaults.ServiceDefaults.ApiJson);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge) { return TooLarge(); }
        catch (JsonException) { return JobsApi.BadRequest("The body must be a JSON object like {\"jobs\": [\"<job id>\"], \"ttl_seconds\": 600}."); }

        var ttl = request?.TtlSeconds ?? options.Value.DefaultLifetimeSeconds;
        if (ttl is < 1 or > StreamTokenOptions.MaxLifetimeSeconds)
            return JobsApi.BadRequest($"ttl_seconds must be between 1 and {StreamTokenOptions.MaxLifetimeSeconds}.");

        HashSet<Guid>? jobs = null;
        if (request?.Jobs is { } ids)
        {
            if (ids.Length is 0 or > StreamTokenOptions.MaxJobs)
                return JobsApi.BadRequest($"jobs must list 1 to {StreamTokenOptions.MaxJobs} job ids (leave it out for every job).");
            jobs = [];
            foreach (var id in ids)
                if (Guid.TryParse(id, out var job)) jobs.Add(job);
                else return JobsApi.MalformedId(id ?? "null");
        }

        var expiresAt = clock.GetUtcNow().AddSeconds(ttl);
        var token = tokens.Issue(new StreamGrant(http.Tenant(), jobs, expiresAt));
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Cookies.Append(StreamTokenHandler.CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Path = "/",
            Secure = http.Request.IsHttps,
            Expires = expiresAt,
        });
        return TypedResults.Ok(new StreamTokenAnswer(token, expiresAt));
    }

    private static IResult TooLarge() => TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large",
        detail: $"A stream token request is at most {MaxBodyBytes} bytes.");
}
