namespace Vidline.EndToEnd.Tests;

/// <summary>
/// TEMPORARY stand-in, for the integrator to delete: engineer A's harness gives <see cref="Pipeline"/> an instance method
/// <c>NewTenantClientAsync(name)</c> (a client with a new tenant's own API key), which then wins over this extension.
/// Until then every client is the same anonymous caller, so the hostile suite's "foreign job" cases fail on main, as they should.
/// </summary>
public static class TenantClients
{
    public static Task<HttpClient> NewTenantClientAsync(this Pipeline pipeline, string tenant) =>
        Task.FromResult(new HttpClient { BaseAddress = pipeline.Edge.BaseAddress, Timeout = pipeline.Edge.Timeout });
}
