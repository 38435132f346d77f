using System.Collections.Concurrent;
using System.Reflection;
using MassTransit;

namespace Vidline.Media.Tests;

/// <summary>
/// An <see cref="IPublishEndpoint"/> that records what is published, or fails every publish while
/// <see cref="BrokerDown"/> is set, as a publish to an unreachable RabbitMQ does.
/// </summary>
public class RecordingPublisher : DispatchProxy
{
    public ConcurrentQueue<object> Published { get; } = new();
    public volatile bool BrokerDown;

    public static (IPublishEndpoint Endpoint, RecordingPublisher Recorder) Create()
    {
        var endpoint = Create<IPublishEndpoint, RecordingPublisher>();
        return (endpoint, (RecordingPublisher)(object)endpoint);
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        if (method?.Name != nameof(IPublishEndpoint.Publish)) return null;
        if (BrokerDown) return Task.FromException(new OperationCanceledException("the broker is unreachable"));
        Published.Enqueue(args![0]!);
        return Task.CompletedTask;
    }
}
