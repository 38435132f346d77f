using Microsoft.AspNetCore.Http;
using Vidline.ProgressGateway.Streaming;

namespace Vidline.ProgressGateway.Tests.Unit;

public class LastEventIdTests
{
    [Theory]
    [InlineData("15", null, 15L)]
    [InlineData(" 15 ", null, 15L)]
    [InlineData(null, "9", 9L)]
    [InlineData("15", "9", 15L)]      // the header wins
    [InlineData("abc", "9", 9L)]      // an unusable header falls back to the query
    [InlineData("-3", null, null)]
    [InlineData("1.5", null, null)]
    [InlineData("", "", null)]
    [InlineData(null, null, null)]
    [InlineData("99999999999999999999", null, null)]
    public void Parses_header_then_query(string? header, string? query, long? expected) =>
        Assert.Equal(expected, LastEventId.Parse(header, query));

    [Fact]
    public void Reads_from_a_request()
    {
        var http = new DefaultHttpContext();
        http.Request.QueryString = new QueryString("?lastEventId=31");
        Assert.Equal(31, LastEventId.From(http.Request));

        http.Request.Headers["Last-Event-ID"] = "40";
        Assert.Equal(40, LastEventId.From(http.Request));
    }
}
