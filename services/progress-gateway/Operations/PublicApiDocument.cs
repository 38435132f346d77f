using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Vidline.ServiceDefaults;

namespace Vidline.ProgressGateway.Operations;

/// <summary>
/// One OpenAPI document for the whole public API, as the edge serves it at <c>/openapi.json</c>: the gateway's own
/// routes (reads and streams) plus ingest-api's (upload, cancel, retry), whose document it fetches from ingest-api's
/// <c>/openapi/v1.json</c> at its <see cref="ServiceAddresses"/> entry. Both are generated from the endpoints
/// themselves, so the merge is a union of their <c>paths</c>, <c>components</c> and <c>tags</c>.
/// </summary>
public sealed class PublicApiDocument(IServiceProvider services, IHttpClientFactory clients, ServiceAddresses addresses, ServiceIdentity identity)
{
    public const string IngestService = "ingest-api";
    public const string ServiceDocumentPath = "/openapi/v1.json";

    public async Task<JsonObject> BuildAsync(CancellationToken cancellationToken)
    {
        var provider = services.GetRequiredKeyedService<IOpenApiDocumentProvider>("v1");
        var own = await provider.GetOpenApiDocumentAsync(cancellationToken);
        var document = JsonNode.Parse(await own.SerializeAsJsonAsync(OpenApiSpecVersion.OpenApi3_1, cancellationToken))!.AsObject();

        var ingest = addresses.Of(IngestService)
                     ?? throw new InvalidOperationException($"{ServiceAddresses.SectionName}:{IngestService} is not configured.");
        var theirs = JsonNode.Parse(await clients.CreateClient(nameof(PublicApiDocument))
            .GetStringAsync(new Uri(ingest, ServiceDocumentPath), cancellationToken))!.AsObject();
        Merge(document, theirs);

        document["info"] = new JsonObject
        {
            ["title"] = "Vidline public API",
            ["version"] = identity.Version,
            ["description"] = "Upload a video, follow its progress (JSON or Server-Sent Events), cancel or retry it. " +
                              "Errors are application/problem+json (RFC 9457).",
        };
        document.Remove("servers"); // relative to wherever the edge is reached
        return document;
    }

    internal static void Merge(JsonObject into, JsonObject from)
    {
        MergeMaps(Section(into, "paths"), from["paths"] as JsonObject);
        var components = Section(into, "components");
        if (from["components"] is JsonObject theirComponents)
            foreach (var (kind, entries) in theirComponents)
                MergeMaps(Section(components, kind), entries as JsonObject);
        if (from["tags"] is JsonArray theirTags)
        {
            var tags = into["tags"] as JsonArray ?? (JsonArray)(into["tags"] = new JsonArray());
            var known = tags.Select(t => t?["name"]?.GetValue<string>()).ToHashSet();
            foreach (var tag in theirTags.Where(t => !known.Contains(t?["name"]?.GetValue<string>())))
                tags.Add(tag?.DeepClone());
        }
    }

    /// <summary>Adds what <paramref name="from"/> has and <paramref name="into"/> lacks, one level down (a path's operations).</summary>
    private static void MergeMaps(JsonObject into, JsonObject? from)
    {
        if (from is null) return;
        foreach (var (key, value) in from)
        {
            if (into[key] is JsonObject existing && value is JsonObject incoming)
            {
                foreach (var (inner, innerValue) in incoming)
                    if (!existing.ContainsKey(inner)) existing[inner] = innerValue?.DeepClone();
            }
            else if (!into.ContainsKey(key))
            {
                into[key] = value?.DeepClone();
            }
        }
    }

    private static JsonObject Section(JsonObject parent, string name) =>
        parent[name] as JsonObject ?? (JsonObject)(parent[name] = new JsonObject());
}

public static class PublicApiEndpoints
{
    /// <summary><c>/openapi.json</c> (the whole public API) and <c>/api</c> (a page that reads it), both through the edge.</summary>
    internal static IEndpointRouteBuilder MapPublicApiDocument(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi().AllowAnonymous(); // this service's own part, at PublicApiDocument.ServiceDocumentPath
        app.MapGet("/openapi.json", async (PublicApiDocument document, CancellationToken ct) =>
        {
            try
            {
                return Results.Text((await document.BuildAsync(ct)).ToJsonString(), "application/json");
            }
            catch (HttpRequestException e)
            {
                return Results.Problem(statusCode: StatusCodes.Status502BadGateway, title: "API description incomplete",
                    detail: $"ingest-api's description could not be fetched: {e.Message}");
            }
        }).ExcludeFromDescription().AllowAnonymous();
        var page = ReadReferencePage();
        app.MapGet("/api", () => Results.Content(page, "text/html; charset=utf-8")).ExcludeFromDescription().AllowAnonymous();
        return app;
    }

    private static string ReadReferencePage()
    {
        using var stream = typeof(PublicApiDocument).Assembly.GetManifestResourceStream("Vidline.ProgressGateway.Operations.ApiReference.html")
                           ?? throw new InvalidOperationException("The API reference page is not embedded.");
        return new StreamReader(stream).ReadToEnd();
    }
}
