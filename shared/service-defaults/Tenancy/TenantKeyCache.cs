using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Vidline.ServiceDefaults.Tenancy;

/// <summary>Settings of API key authentication (section <c>Auth</c>). There is deliberately none that turns it off.</summary>
public sealed class AuthOptions
{
    /// <summary>How long a key's lookup is remembered: a revoked key stops working within this time.</summary>
    public int KeyCacheSeconds { get; set; } = 30;
}

/// <summary>
/// Which tenant a key hash belongs to, remembered for <see cref="AuthOptions.KeyCacheSeconds"/> so a busy client costs
/// one query per interval, not one per request. Only known keys are remembered, in a bounded cache: unknown ones
/// would let a flood of random keys fill it and push every tenant's lookups to the database. Each unknown key costs
/// one query; the edge's per-address limits bound how many arrive at once.
/// </summary>
public sealed class TenantKeyCache(ApiKeys keys, IOptions<AuthOptions> options) : IDisposable
{
    private const int MaxEntries = 10_000;
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = MaxEntries });
    private readonly TimeSpan _lifetime = TimeSpan.FromSeconds(Math.Max(0, options.Value.KeyCacheSeconds));

    public async Task<string?> TenantOfAsync(string key, CancellationToken ct)
    {
        var hash = ApiKey.Hash(key);
        var entry = Convert.ToHexString(hash);
        if (_cache.TryGetValue(entry, out string? cached)) return cached;
        string? tenant;
        try
        {
            tenant = await keys.TenantOfAsync(hash, ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // Each service migrates the table before it serves; it is missing only when the database was replaced
            // under a running service: nobody can be let in yet, and nobody is wrong.
            throw new ServiceUnavailableException("API keys are not set up yet (ingest-api has not migrated the database); try again shortly.");
        }
        if (tenant is not null && _lifetime > TimeSpan.Zero)
            _cache.Set(entry, tenant, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = _lifetime });
        return tenant;
    }

    public void Dispose() => _cache.Dispose();
}
