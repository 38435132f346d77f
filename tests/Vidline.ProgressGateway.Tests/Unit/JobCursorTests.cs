namespace Vidline.ProgressGateway.Tests.Unit;

public class JobCursorTests
{
    [Fact]
    public void Round_trips()
    {
        var cursor = new JobCursor(new DateTime(2026, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc).AddTicks(4560), Guid.NewGuid());
        Assert.True(JobCursor.TryDecode(cursor.Encode(), out var decoded));
        Assert.Equal(cursor, decoded);
    }

    [Theory]
    [InlineData("not-base64!")]
    [InlineData("Zm9v")] // "foo"
    public void Rejects_what_it_did_not_issue(string text) => Assert.False(JobCursor.TryDecode(text, out _));

    [Fact]
    public void Absent_means_first_page()
    {
        Assert.True(JobCursor.TryDecode(null, out var cursor));
        Assert.Null(cursor);
    }
}
