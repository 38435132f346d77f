using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Vidline.IngestApi.Tests.Persistence;
using Vidline.Tests.Shared;

namespace Vidline.IngestApi.Tests.Apis;

/// <summary>ingest-api's OpenAPI document (merged by the gateway into the edge's /openapi.json) against its endpoints.</summary>
public sealed class ApiDescriptionTests(PostgresTestDatabase db) : IClassFixture<PostgresTestDatabase>
{
    [Fact]
    public async Task Every_public_route_is_documented_every_documented_route_exists_and_errors_are_problem_json()
    {
        var storage = Directory.CreateTempSubdirectory("vidline-ingest-openapi-").FullName;
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseEnvironment("Testing");
            host.UseSetting("ConnectionStrings:Postgres", db.ConnectionString);
            host.UseSetting("Storage:Root", storage);
            host.ConfigureTestServices(services => services.AddMassTransitTestHarness(x => x.AddIngestMessaging()));
        });
        using var client = factory.CreateClient();
        var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json")).RootElement;

        var declared = PublicRoutes.Declared(factory.Services.GetRequiredService<EndpointDataSource>());
        Assert.Equal(["POST /jobs/{id}/cancel", "POST /jobs/{id}/retry", "POST /process"], declared);
        Assert.Equal(declared, PublicRoutes.Documented(document));
        Assert.Empty(PublicRoutes.WithoutProblemResponses(document));
        Assert.Empty(PublicRoutes.WithoutApiKey(document));
        // The upload's form and its answer are described, not just named.
        var upload = document.GetProperty("paths").GetProperty("/process").GetProperty("post");
        var form = upload.GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema");
        Assert.Equal(["key", "priority", "video"], form.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
        Assert.True(upload.GetProperty("responses").GetProperty("202").GetProperty("content").TryGetProperty("application/json", out _));
        Directory.Delete(storage, recursive: true);
    }
}
