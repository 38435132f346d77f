using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Vidline.ServiceDefaults.Limits;

/// <summary>
/// Turns every empty error response into problem+json, from the outermost place in the pipeline: ASP.NET Core's host
/// filtering (<c>AllowedHosts</c>) runs before any middleware an app adds and answers a request for an unknown host with
/// a bare <c>400</c>; registered first, this filter wraps even that.
/// </summary>
public sealed class OutermostStatusPages : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseStatusCodePages();
        next(app);
    };
}
