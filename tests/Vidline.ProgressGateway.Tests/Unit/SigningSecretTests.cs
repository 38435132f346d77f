using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Vidline.ProgressGateway.Access;

namespace Vidline.ProgressGateway.Tests.Unit;

public class SigningSecretTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("short-secret")]
    public void Production_refuses_to_start_without_a_secret_of_32_characters(string? value)
    {
        var e = Assert.Throws<InvalidOperationException>(() => SigningSecret.Read(value, "Streams:TokenSecret", Environment("Production"), "how to make one"));
        Assert.Contains("Streams__TokenSecret", e.Message);
        Assert.Contains("at least 32 characters", e.Message);
    }

    [Fact]
    public void A_short_secret_is_refused_in_every_environment() =>
        Assert.Throws<InvalidOperationException>(() => SigningSecret.Read("short", "Outputs:SigningSecret", Environment("Development"), "x"));

    [Fact]
    public void Outside_production_a_missing_secret_is_a_random_one_per_process()
    {
        var first = SigningSecret.Read(null, "Outputs:SigningSecret", Environment("Development"), "x");
        var second = SigningSecret.Read(null, "Outputs:SigningSecret", Environment("Testing"), "x");
        Assert.Equal(32, first.Length);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void A_configured_secret_is_used_as_it_is() =>
        Assert.Equal("0123456789abcdef0123456789abcdef"u8.ToArray(),
            SigningSecret.Read("0123456789abcdef0123456789abcdef", "Outputs:SigningSecret", Environment("Production"), "x"));

    private static IHostEnvironment Environment(string name) => new TestEnvironment { EnvironmentName = name };

    private sealed class TestEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "";
        public string ApplicationName { get; set; } = "tests";
        public string ContentRootPath { get; set; } = "/";
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
