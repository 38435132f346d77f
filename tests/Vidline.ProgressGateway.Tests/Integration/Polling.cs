namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>Waiting for what the gateway does asynchronously (consuming from the broker, tailing the store).</summary>
public static class Polling
{
    public static async Task Eventually(Func<Task<bool>> condition, int timeoutSeconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in time");
            await Task.Delay(100);
        }
    }
}
