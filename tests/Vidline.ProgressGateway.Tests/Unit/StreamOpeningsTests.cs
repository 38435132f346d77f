using Microsoft.Extensions.Options;
using Vidline.ProgressGateway.Streaming;

namespace Vidline.ProgressGateway.Tests.Unit;

public class StreamOpeningsTests
{
    [Fact]
    public async Task A_stream_gets_a_turn_once_one_is_given_back_and_none_beyond_the_wait()
    {
        var openings = new StreamOpenings(Options.Create(new SseOptions { ConcurrentOpens = 1, OpenWaitSeconds = 0 }));
        var first = await openings.EnterAsync(default);
        await Assert.ThrowsAsync<StreamOpenings.TooManyException>(() => openings.EnterAsync(default));

        first.Dispose();
        first.Dispose(); // giving a turn back twice frees one turn, not two
        var second = await openings.EnterAsync(default);
        await Assert.ThrowsAsync<StreamOpenings.TooManyException>(() => openings.EnterAsync(default));
        second.Dispose();
    }
}
