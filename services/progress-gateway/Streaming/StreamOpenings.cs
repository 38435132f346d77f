using Microsoft.Extensions.Options;

namespace Vidline.ProgressGateway.Streaming;

/// <summary>
/// Turns for opening a stream. While it opens, a stream holds its snapshots or a replay page in memory and a
/// database connection; only <see cref="SseOptions.ConcurrentOpens"/> do so at once, so a thousand clients
/// connecting together cost a bounded amount of memory and leave connections for storing events. A client that
/// waits longer than <see cref="SseOptions.OpenWaitSeconds"/> for a turn is answered 503 with Retry-After.
/// </summary>
public sealed class StreamOpenings(IOptions<SseOptions> options)
{
    private readonly SemaphoreSlim _turns = new(Math.Max(1, options.Value.ConcurrentOpens));

    /// <summary>A turn, released (once) when disposed: when the stream has written what it opened with.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken ct)
    {
        if (!await _turns.WaitAsync(TimeSpan.FromSeconds(options.Value.OpenWaitSeconds), ct))
            throw new TooManyException();
        return new Turn(_turns);
    }

    public sealed class TooManyException() : Exception("too many streams are opening at once");

    private sealed class Turn(SemaphoreSlim turns) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) turns.Release();
        }
    }
}
