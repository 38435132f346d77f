namespace Vidline.ProgressGateway.Consumers;

/// <summary>
/// One durable queue shared by every gateway instance (competing consumers): each event is stored once,
/// by whichever instance takes it, and reaches every instance's clients through the database tailer.
/// </summary>
public static class GatewayEndpoint
{
    public const string Name = "progress-gateway";
}
