using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Vidline.ProgressGateway.Access;

/// <summary>Section <c>Outputs</c>.</summary>
public sealed class OutputLinkOptions
{
    /// <summary>How long a signed output URL stays good.</summary>
    public TimeSpan UrlLifetime { get; set; } = TimeSpan.FromHours(4);
}

/// <summary>
/// Turns the output paths stages record (<c>/outputs/{jobN}/master.m3u8</c>) into the signed, expiring URLs the API
/// hands out: <c>/outputs/{expires}/{signature}/{jobN}/master.m3u8</c>, which the edge (nginx <c>secure_link</c>,
/// scripts/nginx/vidline.conf.template) checks before serving the file. Signature = base64url without padding of
/// MD5("{expires}{jobN} {secret}"), exactly nginx's <c>secure_link_md5 "$secure_link_expires$job $secret"</c>.
/// The signature covers the job's folder, not one file: HLS and DASH players fetch variant playlists and segments by
/// URLs relative to the manifest, which keep the <c>/outputs/{expires}/{signature}/{jobN}/</c> prefix, so one
/// signature opens the job's package and nothing outside it. Signing happens when a job is read, never when it is
/// stored, so every answer carries fresh URLs.
/// </summary>
public sealed partial class OutputLinks(byte[] secret, TimeProvider clock, IOptions<OutputLinkOptions> options)
{
    // Expiry rounded up to the minute: reads within a minute hand out the same URL, which a browser can cache.
    private const int ExpiryStepSeconds = 60;

    [GeneratedRegex("^/outputs/(?<job>[0-9a-f]{32})/(?<file>.+)$")]
    private static partial Regex UnsignedPath();

    /// <summary>
    /// The signed URL of a stored output path of <paramref name="jobId"/>; anything else comes back as it is. Only the
    /// job being read is signed: text that names another job's folder (an error message, say) never becomes a key to it.
    /// </summary>
    public string Sign(string path, Guid jobId)
    {
        var match = UnsignedPath().Match(path);
        var job = jobId.ToString("N");
        if (!match.Success || match.Groups["job"].Value != job) return path;
        var expires = Expiry();
        return $"/outputs/{expires}/{Signature(expires, job)}/{job}/{match.Groups["file"].Value}";
    }

    public string Signature(long expires, string job)
    {
        var material = Encoding.UTF8.GetBytes($"{expires}{job} ").Concat(secret).ToArray();
        return Base64Url.EncodeToString(MD5.HashData(material));
    }

    /// <summary>The same JSON with every output path of <paramref name="jobId"/> in it (at any depth) signed: a job's <c>result</c>, a <c>done</c> event.</summary>
    public string SignAll(string json, Guid jobId)
    {
        if (!json.Contains("/outputs/", StringComparison.Ordinal)) return json;
        using var document = JsonDocument.Parse(json);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer)) Write(document.RootElement, writer, jobId);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private void Write(JsonElement element, Utf8JsonWriter writer, Guid jobId)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject())
                {
                    writer.WritePropertyName(property.Name);
                    Write(property.Value, writer, jobId);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray()) Write(item, writer, jobId);
                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(Sign(element.GetString()!, jobId));
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }

    private long Expiry()
    {
        var at = clock.GetUtcNow().Add(options.Value.UrlLifetime).ToUnixTimeSeconds();
        return (at + ExpiryStepSeconds - 1) / ExpiryStepSeconds * ExpiryStepSeconds;
    }
}

public static class OutputAccess
{
    public static IHostApplicationBuilder AddOutputLinks(this IHostApplicationBuilder builder)
    {
        var secret = SigningSecret.Read(builder.Configuration["Outputs:SigningSecret"], "Outputs:SigningSecret", builder.Environment,
            "it must equal the edge's OUTPUT_SIGNING_SECRET; scripts/infra.sh and services.sh share .run/output-signing-secret, " +
            "docker compose reads OUTPUT_SIGNING_SECRET from its env file");
        builder.Services.Configure<OutputLinkOptions>(builder.Configuration.GetSection("Outputs"));
        builder.Services.AddSingleton(sp => new OutputLinks(secret, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<OutputLinkOptions>>()));
        return builder;
    }
}
