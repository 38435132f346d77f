using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Vidline.ServiceDefaults.Tenancy;

/// <summary>
/// Every request to a Vidline API belongs to a tenant, named by its API key. Endpoints are closed unless they say
/// otherwise: the fallback policy requires a tenant on every endpoint without its own policy, so a new endpoint
/// cannot be forgotten; the public ones (health, metrics, the API description, the stage table, the web page)
/// are marked <c>AllowAnonymous</c>. No setting turns this off, in any environment.
/// </summary>
public static class TenantAuthentication
{
    public const string TenantClaim = "tenant";

    /// <summary>An authenticated caller with a tenant; the fallback for every endpoint.</summary>
    public static readonly AuthorizationPolicy RequireTenant = new AuthorizationPolicyBuilder()
        .RequireAuthenticatedUser().RequireClaim(TenantClaim).Build();

    public static IHostApplicationBuilder AddTenantAuthentication(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<AuthOptions>(builder.Configuration.GetSection("Auth"));
        services.AddSingleton<ApiKeys>();
        services.AddSingleton<TenantKeyCache>();
        services.AddAuthentication(ApiKeyAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder().SetFallbackPolicy(RequireTenant);
        return builder;
    }

    /// <summary>
    /// Authentication and authorization, placed after the exception handler (so an outage during a key lookup is
    /// answered 503) and after whatever a service serves publicly without routing (static files).
    /// </summary>
    public static WebApplication UseTenantAuthentication(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    /// <summary>The caller's tenant; only on endpoints that require one (every endpoint that is not public).</summary>
    public static string Tenant(this HttpContext http) =>
        http.User.FindFirst(TenantClaim)?.Value ?? throw new InvalidOperationException("The request has no tenant: its endpoint must require one.");
}
