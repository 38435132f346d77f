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
    [InlineData("", "9", 9L)]         // an empty header is no header
    [InlineData("0", null, 0L)]
    [InlineData("", "", null)]        // a fresh start
    [InlineData(null, null, null)]
    public void Reads_the_header_then_the_query(string? header, string? query, long? expected)
    {
        Assert.True(LastEventId.TryParse(header, query, out var id));
        Assert.Equal(expected, id);
    }

    [Theory]
    [InlineData("abc", "9")]          // a bad header is not saved by a good query
    [InlineData("-3", null)]
    [InlineData("+3", null)]
    [InlineData("1.5", null)]
    [InlineData("1\0", null)]
    [InlineData("1e3", null)]
    [InlineData("99999999999999999999", null)]
    [InlineData(null, "abc")]
    public void Refuses_what_no_stream_sent(string? header, string? query) =>
        Assert.False(LastEventId.TryParse(header, query, out _));

    [Fact]
    public void Reads_from_a_request()
    {
        var http = new DefaultHttpContext();
        http.Request.QueryString = new QueryString("?lastEventId=31");
        Assert.True(LastEventId.TryRead(http.Request, out var fromQuery));
        Assert.Equal(31, fromQuery);

        http.Request.Headers["Last-Event-ID"] = "40";
        Assert.True(LastEventId.TryRead(http.Request, out var fromHeader));
        Assert.Equal(40, fromHeader);
    }
}
