using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Vidline.ProgressGateway.Access;

/// <summary>
/// The <c>StreamToken</c> scheme: a stream token from <c>?access_token=</c> or the <c>vidline_stream</c> cookie
/// becomes the same principal an API key gives (Name = tenant, claim <c>tenant</c>), plus, for a token scoped to
/// jobs, claim <c>jobs</c> listing them. Only the stream endpoints ask for this scheme (<see cref="StreamAccess"/>).
/// The token is checked when a stream opens; a stream that outlives it is not cut (it carries no new authority:
/// it only follows what it was allowed to open).
/// </summary>
public sealed class StreamTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    StreamTokens tokens) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string QueryParameter = "access_token";
    public const string CookieName = "vidline_stream";
    private const string VerdictKey = "vidline.stream-token.verdict";

    /// <summary>The token a request carries: the query parameter first (it was chosen for this request), then the cookie.</summary>
    public static string? TokenOf(HttpRequest request) =>
        request.Query.TryGetValue(QueryParameter, out var query) && !string.IsNullOrEmpty(query) ? query.ToString()
        : request.Cookies.TryGetValue(CookieName, out var cookie) && !string.IsNullOrEmpty(cookie) ? cookie
        : null;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (TokenOf(Request) is not { } token) return Task.FromResult(AuthenticateResult.NoResult());
        var verdict = tokens.Read(token, out var grant);
        Context.Items[VerdictKey] = verdict;
        if (verdict != StreamTokenVerdict.Valid)
            return Task.FromResult(AuthenticateResult.Fail(verdict == StreamTokenVerdict.Expired ? "stream token expired" : "stream token invalid"));

        var claims = new List<Claim> { new(ClaimTypes.Name, grant!.Tenant), new(StreamAccess.TenantClaim, grant.Tenant) };
        if (grant.Jobs is { } jobs) claims.Add(new Claim(StreamAccess.JobsClaim, string.Join(",", jobs)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
    }

    /// <summary>401 problem+json that says whether to renew (expired) or that the token is not one of ours.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Response.HasStarted) return; // another scheme of the same policy already answered
        var expired = Context.Items[VerdictKey] is StreamTokenVerdict.Expired;
        var title = expired ? "Stream token expired" : "Stream token invalid";
        var detail = expired
            ? "The stream token has expired: get a new one from POST /streams/token and reconnect."
            : "The stream token is not one this service issued, or it was altered: get one from POST /streams/token.";
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"Bearer error=\"invalid_token\", error_description=\"{title}\"";
        await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: title, detail: detail).ExecuteAsync(Context);
    }
}
