using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Vidline.ServiceDefaults.Tenancy;

/// <summary>
/// An API key: <c>vl_</c> and 43 base64url characters (32 random bytes). Only its SHA-256 is stored. A slow password
/// hash (bcrypt, Argon2) exists to make guessing a low-entropy secret expensive; a key of 256 random bits cannot be
/// guessed however fast the hash, so one fast SHA-256 per request is enough and keeps the lookup an index seek.
/// </summary>
public static class ApiKey
{
    public const string Prefix = "vl_";
    private const int SecretBytes = 32;
    private static readonly int SecretChars = Base64Url.GetEncodedLength(SecretBytes);

    /// <summary>How much of a key is stored in clear to tell keys apart in <c>keys.sh list</c> and <c>revoke</c>.</summary>
    public const int ShownLength = 10;

    public static int Length => Prefix.Length + SecretChars;

    public static string Generate() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));

    /// <summary>True for text shaped like a key (prefix, length, base64url alphabet); checked before any lookup.</summary>
    public static bool IsWellFormed(string? text) =>
        text is not null && text.Length == Length && text.StartsWith(Prefix, StringComparison.Ordinal)
        && text.AsSpan(Prefix.Length).ContainsAnyExcept(Base64UrlAlphabet) is false;

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The key's first characters, as stored beside its hash.</summary>
    public static string Shown(string key) => key[..ShownLength];

    private static readonly System.Buffers.SearchValues<char> Base64UrlAlphabet =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}
