using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Vidline.ProgressGateway.Operations;
using Vidline.Tests.Shared;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>The gateway's part of the OpenAPI document against its endpoints, and the merge into one document.</summary>
[Collection(nameof(GatewayFixture))]
public sealed class ApiDescriptionTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Every_public_route_is_documented_every_documented_route_exists_and_errors_are_problem_json()
    {
        var document = await fixture.GetJson(PublicApiDocument.ServiceDocumentPath);

        var declared = PublicRoutes.Declared(fixture.A.Services.GetRequiredService<EndpointDataSource>());
        Assert.Equal(["GET /jobs", "GET /jobs/{id}", "GET /jobs/{id}/stream", "GET /progress/stats", "GET /progress/stream", "GET /stages", "POST /streams/token"], declared);
        Assert.Equal(declared, PublicRoutes.Documented(document));
        Assert.Equal(["GET /stages"], PublicRoutes.WithoutProblemResponses(document).Order()); // it takes no input and needs no key
        Assert.Equal(["GET /stages"], PublicRoutes.WithoutApiKey(document));
        var streamAnswers = document.GetProperty("paths").GetProperty("/jobs/{id}/stream").GetProperty("get").GetProperty("responses");
        Assert.True(streamAnswers.TryGetProperty("200", out var ok) && ok.TryGetProperty("content", out var content) && content.TryGetProperty("text/event-stream", out _),
            streamAnswers.ToString());
    }

    [Fact]
    public void The_merge_takes_the_other_services_paths_components_and_tags_and_keeps_its_own()
    {
        var own = JsonNode("""{"paths": {"/jobs": {"get": {}}}, "components": {"schemas": {"JobView": {"type": "object"}}}, "tags": [{"name": "gateway"}]}""");
        var theirs = JsonNode("""
            {"paths": {"/process": {"post": {}}, "/jobs": {"post": {}, "get": {"summary": "theirs"}}},
             "components": {"schemas": {"JobAccepted": {}, "JobView": {"type": "string"}}}, "tags": [{"name": "ingest"}, {"name": "gateway"}]}
            """);

        PublicApiDocument.Merge(own, theirs);

        var merged = JsonDocument.Parse(own.ToJsonString()).RootElement;
        Assert.Equal(["/jobs", "/process"], merged.GetProperty("paths").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(["get", "post"], merged.GetProperty("paths").GetProperty("/jobs").EnumerateObject().Select(p => p.Name).Order());
        Assert.False(merged.GetProperty("paths").GetProperty("/jobs").GetProperty("get").TryGetProperty("summary", out _));
        Assert.Equal("object", merged.GetProperty("components").GetProperty("schemas").GetProperty("JobView").GetProperty("type").GetString());
        Assert.True(merged.GetProperty("components").GetProperty("schemas").TryGetProperty("JobAccepted", out _));
        Assert.Equal(["gateway", "ingest"], merged.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
    }

    private static System.Text.Json.Nodes.JsonObject JsonNode(string json) => System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
}
