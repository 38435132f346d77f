using System.Diagnostics;
using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.ServiceDefaults.Tests;

public class ApiKeyTests
{
    [Fact]
    public void A_new_key_is_vl_and_43_base64url_characters_and_never_repeats()
    {
        var keys = Enumerable.Range(0, 1000).Select(_ => ApiKey.Generate()).ToList();

        Assert.All(keys, key =>
        {
            Assert.Matches("^vl_[A-Za-z0-9_-]{43}$", key);
            Assert.True(ApiKey.IsWellFormed(key));
        });
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("vl_")]
    [InlineData("vk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // wrong prefix
    [InlineData("vl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]  // one short
    [InlineData("vl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // one long
    [InlineData("vl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")] // padding
    [InlineData("vl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+")] // base64, not base64url
    [InlineData("vl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\0")]
    [InlineData("vl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n")]
    [InlineData("vl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAé")]
    public void Text_that_is_not_shaped_like_a_key_is_refused_before_any_lookup(string? text) =>
        Assert.False(ApiKey.IsWellFormed(text));

    [Fact]
    public async Task The_stored_hash_is_the_sha256_that_keys_sh_computes_with_sha256sum()
    {
        var key = ApiKey.Generate();
        var info = new ProcessStartInfo("bash", ["-c", "printf %s \"$1\" | sha256sum | cut -d' ' -f1", "-", key]) { RedirectStandardOutput = true };
        using var sha256sum = Process.Start(info)!;
        var hex = (await sha256sum.StandardOutput.ReadToEndAsync()).Trim();
        await sha256sum.WaitForExitAsync();

        Assert.Equal(hex, Convert.ToHexStringLower(ApiKey.Hash(key)));
        Assert.Equal(key[..10], ApiKey.Shown(key));
    }
}
