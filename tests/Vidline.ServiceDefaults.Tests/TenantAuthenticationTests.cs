using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.ServiceDefaults.Tests;

/// <summary>
/// The ApiKey scheme in a minimal service, against databases that cannot answer a lookup: the caller must be told
/// to come back (503), never that its key is wrong (401) or that the service broke (500).
/// </summary>
public class TenantAuthenticationTests
{
    private const string SharedServer = "Host=127.0.0.1;Port=5432;Username=postgres;Password=vidline";

    [Fact]
    public async Task A_database_outage_during_the_key_lookup_is_answered_503_with_retry_after()
    {
        // Nothing listens on port 1: the same error as a stopped server.
        await using var app = await ServiceAsync("Host=127.0.0.1;Port=1;Username=x;Password=x;Timeout=2");

        var response = await app.GetTestClient().SendAsync(WithKey(ApiKey.Generate()));

        await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "database away");
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task A_database_without_the_api_keys_table_yet_is_answered_503()
    {
        // The server's own maintenance database has no api_keys table, as a gateway that started before ingest-api finds it.
        await using var app = await ServiceAsync($"{SharedServer};Database=postgres");

        var response = await app.GetTestClient().SendAsync(WithKey(ApiKey.Generate()));

        await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "API keys are not set up yet");
    }

    [Fact]
    public async Task Without_a_key_there_is_no_lookup_and_the_answer_is_401_and_public_endpoints_stay_open()
    {
        await using var app = await ServiceAsync("Host=127.0.0.1;Port=1;Username=x;Password=x;Timeout=2");
        var client = app.GetTestClient();

        var response = await client.GetAsync("/jobs");

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "needs an API key");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/public")).StatusCode);
    }

    /// <summary>A service as Vidline's are put together: defaults, outage answers, tenant authentication.</summary>
    private static async Task<WebApplication> ServiceAsync(string connectionString)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration["ConnectionStrings:Postgres"] = connectionString;
        builder.AddServiceDefaults("tenancy-test");
        builder.Services.AddSingleton(NpgsqlDataSource.Create(connectionString));
        builder.Services.AddOutageAnswers(e => DatabaseOutage.IsTransient(e) ? "database away" : null);
        builder.AddTenantAuthentication();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.UseTenantAuthentication();
        app.MapGet("/jobs", (HttpContext http) => http.Tenant());
        app.MapGet("/public", () => "open").AllowAnonymous();
        await app.StartAsync();
        return app;
    }

    private static HttpRequestMessage WithKey(string key) =>
        new(HttpMethod.Get, "/jobs") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", key) } };

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains(detail, problem.GetProperty("detail").GetString());
        Assert.DoesNotContain("   at ", problem.ToString());
    }
}
