using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Vidline.ServiceDefaults.Tenancy;

/// <summary>
/// The "ApiKey" scheme: <c>Authorization: Bearer vl_…</c>. A key of the wrong shape is refused without a lookup; a
/// known, unrevoked key makes the caller its tenant (<see cref="ClaimsIdentity.Name"/> and claim <c>tenant</c>). A
/// database outage during the lookup propagates, so <see cref="OutageAnswer"/> answers 503 instead of a wrong 401.
/// </summary>
public sealed class ApiKeyAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger,
    UrlEncoder encoder, TenantKeyCache tenants, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    private const string Bearer = "Bearer ";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var headers = Request.Headers.Authorization;
        if (headers.Count == 0) return AuthenticateResult.NoResult();
        if (headers.Count > 1 || headers[0] is not { } value || !value.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
            return AuthenticateResult.Fail("The Authorization header must be 'Bearer <API key>'.");
        var key = value[Bearer.Length..].Trim(' ');
        if (!ApiKey.IsWellFormed(key)) return AuthenticateResult.Fail("The bearer token is not a Vidline API key.");
        if (await tenants.TenantOfAsync(key, Context.RequestAborted) is not { } tenant)
            return AuthenticateResult.Fail("The API key is unknown or revoked.");

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, tenant), new Claim(TenantAuthentication.TenantClaim, tenant)], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    /// <summary>401 problem+json; <c>WWW-Authenticate</c> says Bearer, and why when a key was sent (RFC 6750 §3).</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers[HeaderNames.WWWAuthenticate] = failure is null ? "Bearer" : "Bearer error=\"invalid_token\"";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = failure ?? "This endpoint needs an API key: send 'Authorization: Bearer <key>'.",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = StatusCodes.Status403Forbidden, Title = "Forbidden", Detail = "This key may not do that." },
        });
    }
}
