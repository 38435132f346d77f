using System.Net;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>
/// A job's address serves two audiences. Browsers get the web page there (Unit.WebPageTests, and the browser tests,
/// which need the built page); API clients keep getting JSON.
/// </summary>
[Collection(nameof(GatewayFixture))]
public class JobAddressTests(GatewayFixture fixture)
{
    private readonly HttpClient _a = fixture.A.CreateClient();

    [Fact]
    public async Task A_jobs_address_answers_api_clients_with_json_and_tells_caches_it_depends_on_accept()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/jobs/{Guid.NewGuid()}") { Headers = { { "Accept", "*/*" } } };
        var response = await _a.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept", response.Headers.Vary);
    }
}
