using Vidline.ProgressGateway.Streaming;

namespace Vidline.ProgressGateway.Tests.Unit;

public class SseFrameTests
{
    [Fact]
    public void Event_with_id_and_data_is_one_block_ending_in_a_blank_line()
    {
        var frame = new SseFrame("progress", """{"progress":12.5}""", 42);
        Assert.Equal("event: progress\nid: 42\ndata: {\"progress\":12.5}\n\n", frame.ToString());
    }

    [Fact]
    public void Multi_line_data_becomes_several_data_lines()
    {
        var frame = new SseFrame("warning", "first\r\nsecond\nthird");
        Assert.Equal("event: warning\ndata: first\ndata: second\ndata: third\n\n", frame.ToString());
    }

    [Fact]
    public void Heartbeat_is_a_comment_that_fires_no_event()
    {
        Assert.Equal(": heartbeat\n\n", SseFrame.Heartbeat.ToString());
    }

    [Fact]
    public void Retry_hint_stands_alone()
    {
        Assert.Equal("retry: 2000\n\n", new SseFrame(RetryMilliseconds: 2000).ToString());
    }

    [Fact]
    public void Stored_event_maps_type_id_and_data()
    {
        var stored = new StoredEvent(7, Guid.NewGuid(), 2, "done", """{"status":"completed"}""", "completed");
        Assert.Equal("event: done\nid: 7\ndata: {\"status\":\"completed\"}\n\n", SseFrame.For(stored).ToString());
        Assert.True(stored.EndsRun(2));
        Assert.False(stored.EndsRun(3)); // a newer run goes on past an older run's done
    }
}
