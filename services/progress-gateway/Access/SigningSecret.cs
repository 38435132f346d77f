using System.Security.Cryptography;
using System.Text;

namespace Vidline.ProgressGateway.Access;

/// <summary>
/// A secret the gateway signs with (stream tokens, output URLs). Every instance behind the edge must hold the same
/// one, so it comes from configuration; in Production a missing or short one stops the gateway at start rather than
/// letting it sign with something guessable. Elsewhere (Development, tests) a random one is made for this process.
/// </summary>
public static class SigningSecret
{
    public const int MinLength = 32;

    /// <param name="value">The configured secret (read at the call site, so the settings table finds the key).</param>
    public static byte[] Read(string? value, string key, IHostEnvironment environment, string generatedBy)
    {
        if (value is { Length: >= MinLength }) return Encoding.UTF8.GetBytes(value);
        if (environment.IsProduction())
            throw new InvalidOperationException(
                $"{key} must be set to a secret of at least {MinLength} characters (environment variable {key.Replace(":", "__")}); " +
                $"{generatedBy}. The gateway does not start without it.");
        if (!string.IsNullOrEmpty(value))
            throw new InvalidOperationException($"{key} is shorter than {MinLength} characters.");
        return RandomNumberGenerator.GetBytes(MinLength);
    }
}
