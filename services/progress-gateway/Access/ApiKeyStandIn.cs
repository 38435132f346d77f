// STAND-IN, TO BE DELETED WHEN THE REAL API KEYS LAND (engineer A: shared/service-defaults/Tenancy,
// builder.AddTenantAuthentication()). It only lets this branch run: it registers the "ApiKey" scheme of the shared
// contract, takes any Bearer value as the tenant's name, and lets a request without one in as "anonymous" (today's
// behaviour). It checks nothing and must never ship.
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Vidline.ProgressGateway.Access;

public static class ApiKeyStandIn
{
    public static IHostApplicationBuilder AddApiKeyStandIn(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication(StreamAccess.ApiKeyScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyStandInHandler>(StreamAccess.ApiKeyScheme, null);
        return builder;
    }

    private sealed class ApiKeyStandInHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var header = Request.Headers.Authorization.ToString();
            var tenant = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..].Trim() : "anonymous";
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, tenant), new Claim(StreamAccess.TenantClaim, tenant)], Scheme.Name);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
        }
    }
}
