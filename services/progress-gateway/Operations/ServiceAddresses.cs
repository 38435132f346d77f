namespace Vidline.ProgressGateway.Operations;

/// <summary>
/// Section <c>ServiceAddresses</c>: each Vidline process's base URL by node name (<c>ServiceAddresses__ingest-api</c>,
/// <c>ServiceAddresses__transcoder-2</c>, ...). The gateway answers the edge's <c>/health</c> by asking each of them,
/// and takes ingest-api's OpenAPI document from its address. scripts/services.sh and the end-to-end tests fill it in
/// from services/services.tsv.
/// </summary>
public sealed class ServiceAddresses(IReadOnlyDictionary<string, string> nodes)
{
    public const string SectionName = "ServiceAddresses";

    public IReadOnlyDictionary<string, string> Nodes => nodes;

    public static ServiceAddresses From(IConfiguration configuration) =>
        new(configuration.GetSection(SectionName).Get<Dictionary<string, string>>() ?? []);

    /// <summary>The address of the service's first node (<c>ingest-api</c>, else <c>ingest-api-1</c>, ...).</summary>
    public Uri? Of(string service) =>
        (nodes.TryGetValue(service, out var address) ? address : nodes.Where(p => p.Key.StartsWith(service + "-")).OrderBy(p => p.Key).Select(p => p.Value).FirstOrDefault())
        is { } found ? new Uri(found) : null;
}
