using Vidline.ProgressGateway.Apis;

namespace Vidline.ProgressGateway.Tests.Unit;

public class WebPageTests
{
    [Theory]
    // What Chromium and Firefox send when a person opens a link.
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7", true)]
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true)]
    [InlineData("text/*", true)]
    [InlineData("text/html;q=0.5, */*;q=0.1", true)]
    // API clients: curl and fetch send */*, HttpClient nothing; both are JSON.
    [InlineData("*/*", false)]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("application/json", false)]
    [InlineData("application/json, text/html;q=0.9", false)]
    [InlineData("text/html;q=0.5, application/json", false)]
    [InlineData("text/html;q=0, */*", false)]
    [InlineData("not a media type", false)]
    public void Html_only_when_it_ranks_above_json(string? accept, bool expected) =>
        Assert.Equal(expected, WebPage.PrefersHtml(accept));
}
