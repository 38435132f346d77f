using Vidline.ProgressGateway.Streaming;

namespace Vidline.ProgressGateway.Tests.Unit;

public class ReflectedEventsTests
{
    [Fact]
    public void Covers_the_reflected_ids_and_lets_them_go_once_the_stream_is_past_the_last()
    {
        var reflected = new ReflectedEvents([20, 30, 50]);
        Assert.Equal([false, true, false, true, false], new long[] { 10, 20, 25, 30, 40 }.Select(reflected.Covers));
        Assert.False(reflected.Released);
        Assert.True(reflected.Covers(50));
        Assert.True(reflected.Released);
        Assert.False(reflected.Covers(60));
    }

    [Fact]
    public void Lets_go_when_the_stream_skips_past_the_last_id()
    {
        var reflected = new ReflectedEvents([20, 30]);
        Assert.False(reflected.Covers(35));
        Assert.True(reflected.Released);
    }

    [Fact]
    public void Holds_nothing_when_nothing_is_reflected() => Assert.True(new ReflectedEvents([]).Released);
}
