using System.Net.Http.Json;
using System.Text.Json;
using Vidline.ServiceDefaults;
using Defaults = Vidline.ServiceDefaults.ServiceDefaults;

namespace Vidline.ProgressGateway.Operations;

/// <summary>The edge's view of the system: the gateway's own liveness plus every service's readiness.</summary>
public sealed record SystemHealthReply(string Status, string Service, string Version, IReadOnlyDictionary<string, HealthReply> Services);

/// <summary>Asks every configured service's <c>/health/ready</c> at once; a service that does not answer in time is <c>unreachable</c>.</summary>
public sealed class SystemHealth(IHttpClientFactory clients, ServiceAddresses addresses, ServiceIdentity identity)
{
    public const string Degraded = "degraded";
    public const string Unreachable = "unreachable";
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(3);

    public async Task<SystemHealthReply> CheckAsync(CancellationToken cancellationToken)
    {
        var nodes = addresses.Nodes.OrderBy(p => p.Key).ToList();
        var replies = await Task.WhenAll(nodes.Select(node => AskAsync(node.Key, node.Value, cancellationToken)));
        var services = nodes.Select(n => n.Key).Zip(replies).ToDictionary(p => p.First, p => p.Second);
        var status = replies.All(r => r.Status == HealthEndpoints.Healthy) ? HealthEndpoints.Healthy : Degraded;
        return new SystemHealthReply(status, "edge", identity.Version, services);
    }

    private async Task<HealthReply> AskAsync(string node, string address, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(AskTimeout);
        try
        {
            // A 503 carries the same JSON with the failing checks named.
            using var response = await clients.CreateClient(nameof(SystemHealth)).GetAsync(new Uri(new Uri(address), "/health/ready"), timeout.Token);
            return await response.Content.ReadFromJsonAsync<HealthReply>(Defaults.ApiJson, timeout.Token)
                   ?? new HealthReply(Unreachable, node, "unknown");
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            return new HealthReply(Unreachable, node, "unknown", node,
                new Dictionary<string, CheckReply> { ["http"] = new(HealthEndpoints.Unhealthy, $"{address}: {e.Message}") }, ["http"]);
        }
    }
}

