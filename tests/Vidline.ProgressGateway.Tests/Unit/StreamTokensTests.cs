using System.Buffers.Text;
using System.Text;
using Vidline.ProgressGateway.Access;

namespace Vidline.ProgressGateway.Tests.Unit;

public class StreamTokensTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("test-secret-test-secret-test-secret-0001");
    private readonly SettableClock _clock = new(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));
    private StreamTokens Tokens => new(Secret, _clock);

    [Fact]
    public void A_token_reads_back_as_the_grant_it_was_issued_for()
    {
        var jobs = new HashSet<Guid> { Guid.NewGuid(), Guid.NewGuid() };
        var token = Tokens.Issue(new StreamGrant("acme", jobs, _clock.Now.AddMinutes(10)));

        Assert.Equal(StreamTokenVerdict.Valid, Tokens.Read(token, out var grant));
        Assert.Equal("acme", grant!.Tenant);
        Assert.True(jobs.SetEquals(grant.Jobs!));
        Assert.Equal(_clock.Now.AddMinutes(10), grant.ExpiresAt);
    }

    [Fact]
    public void A_token_for_every_job_carries_no_job_list()
    {
        var token = Tokens.Issue(new StreamGrant("acme", null, _clock.Now.AddMinutes(1)));
        Assert.Equal(StreamTokenVerdict.Valid, Tokens.Read(token, out var grant));
        Assert.Null(grant!.Jobs);
    }

    [Fact]
    public void A_token_is_expired_from_its_expiry_on()
    {
        var token = Tokens.Issue(new StreamGrant("acme", null, _clock.Now.AddSeconds(30)));
        _clock.Now = _clock.Now.AddSeconds(29);
        Assert.Equal(StreamTokenVerdict.Valid, Tokens.Read(token, out _));
        _clock.Now = _clock.Now.AddSeconds(1);
        Assert.Equal(StreamTokenVerdict.Expired, Tokens.Read(token, out _));
    }

    [Fact]
    public void A_token_with_a_changed_payload_is_invalid_even_when_the_change_extends_it()
    {
        var token = Tokens.Issue(new StreamGrant("acme", null, _clock.Now.AddSeconds(30)));
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token[..token.IndexOf('.')]));
        var forged = payload.Replace("\"acme\"", "\"other\"");
        Assert.NotEqual(payload, forged);
        var tampered = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(forged)) + token[token.IndexOf('.')..];

        Assert.Equal(StreamTokenVerdict.Invalid, Tokens.Read(tampered, out var grant));
        Assert.Null(grant);
    }

    [Fact]
    public void A_token_signed_with_another_secret_is_invalid()
    {
        var other = new StreamTokens(Encoding.UTF8.GetBytes("another-secret-another-secret-another"), _clock);
        var token = other.Issue(new StreamGrant("acme", null, _clock.Now.AddMinutes(5)));
        Assert.Equal(StreamTokenVerdict.Invalid, Tokens.Read(token, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("no-dot-at-all")]
    [InlineData(".abc")]
    [InlineData("abc.")]
    [InlineData("!!!.???")]
    [InlineData("eyJ0IjoiYWNtZSJ9.AAAA")]
    public void Malformed_tokens_are_invalid_not_errors(string? token) =>
        Assert.Equal(StreamTokenVerdict.Invalid, Tokens.Read(token, out _));

    [Fact]
    public void A_huge_token_is_invalid_without_being_decoded() =>
        Assert.Equal(StreamTokenVerdict.Invalid, Tokens.Read(new string('a', 100_000) + ".b", out _));

    [Fact]
    public void A_flipped_signature_bit_makes_the_token_invalid()
    {
        var token = Tokens.Issue(new StreamGrant("acme", null, _clock.Now.AddMinutes(5)));
        var dot = token.IndexOf('.');
        var signature = Base64Url.DecodeFromChars(token[(dot + 1)..]);
        signature[0] ^= 1;
        Assert.Equal(StreamTokenVerdict.Invalid, Tokens.Read(token[..(dot + 1)] + Base64Url.EncodeToString(signature), out _));
    }
}
