using System.Text.Json;
using Microsoft.AspNetCore.Routing;

namespace Vidline.Tests.Shared;

/// <summary>
/// A service's public routes as its endpoints declare them, and as its OpenAPI document describes them: the two must
/// be the same set, and every described operation must describe its errors as problem+json. Linked into the test
/// projects of the services with a public API (ingest-api, progress-gateway).
/// </summary>
public static class PublicRoutes
{
    /// <summary>Routes for operators and machines, not the public API: health, metrics, the API description itself.</summary>
    private static readonly string[] OperationalPrefixes = ["/health", "/metrics", "/openapi", "/api"];

    public static SortedSet<string> Declared(EndpointDataSource endpoints) =>
        new(endpoints.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } path && !OperationalPrefixes.Any(p => Normalize(path) == p || Normalize(path).StartsWith(p + "/") || Normalize(path).StartsWith(p + ".")))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => $"{m} {Normalize(e.RoutePattern.RawText!)}")));

    public static SortedSet<string> Documented(JsonElement document) =>
        new(document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Where(op => op.Name != "parameters").Select(op => $"{op.Name.ToUpperInvariant()} {Normalize(path.Name)}")));

    /// <summary>Operations that describe no error answer as <c>application/problem+json</c>.</summary>
    public static IReadOnlyList<string> WithoutProblemResponses(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Where(op => op.Name != "parameters")
                .Where(op => !op.Value.GetProperty("responses").EnumerateObject().Any(r =>
                    r.Name.StartsWith('4') && r.Value.TryGetProperty("content", out var content) && content.TryGetProperty("application/problem+json", out _)))
                .Select(op => $"{op.Name.ToUpperInvariant()} {path.Name}"))
            .ToList();

    /// <summary>Operations the document does not describe as needing the bearer API key (scheme <c>ApiKey</c>, declared in components).</summary>
    public static IReadOnlyList<string> WithoutApiKey(JsonElement document)
    {
        var declared = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        if (declared.GetProperty("type").GetString() != "http" || declared.GetProperty("scheme").GetString() != "bearer") return ["(the ApiKey scheme is not http bearer)"];
        return document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Where(op => op.Name != "parameters")
                .Where(op => !(op.Value.TryGetProperty("security", out var security)
                               && security.EnumerateArray().Any(requirement => requirement.TryGetProperty("ApiKey", out _))))
                .Select(op => $"{op.Name.ToUpperInvariant()} {Normalize(path.Name)}"))
            .Order().ToList();
    }

    private static string Normalize(string path) => "/" + path.Trim('/');
}
