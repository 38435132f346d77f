using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vidline.ProgressGateway.Access;

/// <summary>Section <c>Streams</c>: stream tokens for clients that cannot send an Authorization header (EventSource).</summary>
public sealed class StreamTokenOptions
{
    public const int MaxJobs = 100;
    public const int MaxLifetimeSeconds = 3600;

    /// <summary>Lifetime of a token whose request names none.</summary>
    public int DefaultLifetimeSeconds { get; set; } = 600;
}

/// <summary>What a stream token grants: one tenant's streams, optionally only some of its jobs, until it expires.</summary>
public sealed record StreamGrant(string Tenant, IReadOnlySet<Guid>? Jobs, DateTimeOffset ExpiresAt);

public enum StreamTokenVerdict { Valid, Expired, Invalid }

/// <summary>
/// Issues and reads stream tokens: <c>base64url(payload) "." base64url(HMAC-SHA256(payload))</c>, the payload a small
/// JSON object. Any instance holding the same <c>Streams:TokenSecret</c> reads another's tokens, so nothing is stored.
/// </summary>
public sealed class StreamTokens(byte[] secret, TimeProvider clock)
{
    // 100 job ids and a tenant name fit well inside this; anything longer is not a token we issued.
    private const int MaxTokenLength = 8192;
    private const long MaxUnixSeconds = 253402300799; // 9999-12-31, DateTimeOffset's limit

    public string Issue(StreamGrant grant)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new Payload(
            grant.Tenant, grant.Jobs?.Select(id => id.ToString("N")).ToArray(), grant.ExpiresAt.ToUnixTimeSeconds()));
        return Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(secret, payload));
    }

    /// <summary>The grant of a token this service issued, checked in constant time; never throws on bad input.</summary>
    public StreamTokenVerdict Read(string? token, out StreamGrant? grant)
    {
        grant = null;
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength) return StreamTokenVerdict.Invalid;
        var dot = token.IndexOf('.');
        if (dot <= 0 || !TryDecode(token.AsSpan(0, dot), out var payload) || !TryDecode(token.AsSpan(dot + 1), out var signature))
            return StreamTokenVerdict.Invalid;
        if (!CryptographicOperations.FixedTimeEquals(signature, HMACSHA256.HashData(secret, payload)))
            return StreamTokenVerdict.Invalid;

        Payload? read;
        try { read = JsonSerializer.Deserialize<Payload>(payload); }
        catch (JsonException) { return StreamTokenVerdict.Invalid; }
        if (read?.Tenant is not { Length: > 0 } tenant || read.Expires is < 0 or > MaxUnixSeconds) return StreamTokenVerdict.Invalid;

        HashSet<Guid>? jobs = null;
        if (read.Jobs is { } ids)
        {
            jobs = [];
            foreach (var id in ids)
                if (Guid.TryParseExact(id, "N", out var job)) jobs.Add(job);
                else return StreamTokenVerdict.Invalid;
        }
        grant = new StreamGrant(tenant, jobs, DateTimeOffset.FromUnixTimeSeconds(read.Expires));
        return grant.ExpiresAt <= clock.GetUtcNow() ? StreamTokenVerdict.Expired : StreamTokenVerdict.Valid;
    }

    private static bool TryDecode(ReadOnlySpan<char> text, out byte[] bytes)
    {
        bytes = [];
        // TryDecodeFromChars throws on characters outside the alphabet; IsValid says so without throwing.
        if (!Base64Url.IsValid(text, out var length)) return false;
        bytes = new byte[length];
        return Base64Url.TryDecodeFromChars(text, bytes, out _);
    }

    private sealed record Payload(
        [property: JsonPropertyName("t")] string Tenant,
        [property: JsonPropertyName("j"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string[]? Jobs,
        [property: JsonPropertyName("e")] long Expires);
}
