using System.Net;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>The page the gateway serves for watching jobs.</summary>
[Collection(nameof(GatewayFixture))]
public class StaticPageTests(GatewayFixture fixture)
{
    private readonly HttpClient _a = fixture.A.CreateClient();

    [Fact]
    public async Task The_web_page_and_its_script_are_served()
    {
        var page = await _a.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("app.js", html);
        Assert.Contains("name=\"video\"", html);
        var script = await _a.GetStringAsync("/app.js");
        Assert.Contains("new EventSource('/progress/stream')", script);
    }
}
