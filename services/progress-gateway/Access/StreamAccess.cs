using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.ProgressGateway.Access;

/// <summary>
/// Who may open a stream: a caller with an API key (scheme <c>ApiKey</c>, Authorization: Bearer), or one with a
/// stream token (scheme <c>StreamToken</c>), which is how a browser's EventSource gets in (it cannot send headers).
/// A policy scheme picks one per request, so a refused request gets one challenge, from the scheme that refused it.
/// </summary>
public static class StreamAccess
{
    public const string ApiKeyScheme = ApiKeyAuthentication.SchemeName;
    public const string TokenScheme = "StreamToken";
    public const string Policy = "streams";
    public const string TenantClaim = TenantAuthentication.TenantClaim;

    /// <summary>Present only on a scoped token's principal: the job ids it allows, comma-separated.</summary>
    public const string JobsClaim = "jobs";

    private const string EitherScheme = "ApiKeyOrStreamToken";

    /// <summary>How a stream endpoint's description says who may open it.</summary>
    public const string Description = "Send Authorization: Bearer <API key>, or a stream token from POST /streams/token as " +
                                      "?access_token= or the vidline_stream cookie (checked when the stream opens).";

    public static IHostApplicationBuilder AddStreamAccess(this IHostApplicationBuilder builder)
    {
        var secret = SigningSecret.Read(builder.Configuration["Streams:TokenSecret"], "Streams:TokenSecret", builder.Environment,
            "scripts/services.sh generates one into .run/stream-token-secret, docker compose reads STREAM_TOKEN_SECRET from its env file");
        builder.Services.AddOptions<StreamTokenOptions>().Bind(builder.Configuration.GetSection("Streams"))
            .Validate(o => o.DefaultLifetimeSeconds is >= 1 and <= StreamTokenOptions.MaxLifetimeSeconds,
                $"Streams:DefaultLifetimeSeconds must be between 1 and {StreamTokenOptions.MaxLifetimeSeconds}.")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => new StreamTokens(secret, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, StreamTokenHandler>(TokenScheme, null)
            .AddPolicyScheme(EitherScheme, null, o => o.ForwardDefaultSelector = http =>
                // An Authorization header wins: a caller that sends a key means the key.
                http.Request.Headers.Authorization.Count == 0 && StreamTokenHandler.TokenOf(http.Request) is not null ? TokenScheme : ApiKeyScheme);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(EitherScheme).RequireAuthenticatedUser());
        return builder;
    }

    /// <summary>The stream endpoints: an API key or a stream token.</summary>
    public static TBuilder RequireStreamAccess<TBuilder>(this TBuilder endpoint) where TBuilder : IEndpointConventionBuilder =>
        endpoint.RequireAuthorization(Policy);

    /// <summary>The jobs a scoped stream token allows; null when the caller may see every job of its tenant.</summary>
    public static IReadOnlySet<Guid>? AllowedJobs(this ClaimsPrincipal user)
    {
        if (user.FindFirst(JobsClaim) is not { } claim) return null;
        return claim.Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Guid.Parse).ToHashSet();
    }

    /// <summary>A stream filter narrowed to what the caller's token allows (an empty set: nothing at all).</summary>
    public static EventFilter Narrow(this ClaimsPrincipal user, EventFilter filter) =>
        user.AllowedJobs() is not { } allowed ? filter
        : filter with { Jobs = filter.Jobs is null ? allowed : filter.Jobs.Where(allowed.Contains).ToHashSet() };

    /// <summary>Whether the caller's token lets it see this job (its tenant is checked where the job is read).</summary>
    public static bool MaySee(this ClaimsPrincipal user, Guid job) => user.AllowedJobs()?.Contains(job) ?? true;
}
