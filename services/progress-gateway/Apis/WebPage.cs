using Microsoft.Net.Http.Headers;

namespace Vidline.ProgressGateway.Apis;

/// <summary>
/// A job's URL is also the page that shows it: a browser opening <c>/jobs/{id}</c> asks for text/html before
/// anything else and gets the web page (which then reads the job as JSON); API clients keep getting JSON.
/// </summary>
public static class WebPage
{
    private const string PageFile = "index.html";

    /// <summary>Marks an endpoint whose URL is also the page's.</summary>
    public static RouteHandlerBuilder ServesPageToBrowsers(this RouteHandlerBuilder route) => route.WithMetadata(new PageUrl());

    /// <summary>
    /// Serves the page at the URLs marked <see cref="ServesPageToBrowsers"/> to browsers, before authentication: the page
    /// is public (it asks for the API key itself), the JSON behind the same URL is not.
    /// </summary>
    public static WebApplication UseWebPageForBrowsers(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            if (http.GetEndpoint()?.Metadata.GetMetadata<PageUrl>() is not null)
            {
                // Caches must keep the two answers of this URL apart.
                http.Response.Headers.Append(HeaderNames.Vary, HeaderNames.Accept);
                if (PrefersHtml(http.Request.Headers.Accept.ToString()))
                {
                    var page = http.RequestServices.GetRequiredService<IWebHostEnvironment>().WebRootFileProvider.GetFileInfo(PageFile);
                    if (page is { Exists: true, PhysicalPath: { } path })
                    {
                        await TypedResults.PhysicalFile(path, "text/html; charset=utf-8").ExecuteAsync(http);
                        return;
                    }
                }
            }
            await next(http);
        });
        return app;
    }

    private sealed class PageUrl;

    /// <summary>
    /// True when the Accept header ranks text/html above application/json. Each is rated by the most specific
    /// entry that covers it (RFC 9110 §12.5.1), so a wildcard counts; a tie (<c>*/*</c>, as curl and fetch send)
    /// or no header means JSON.
    /// </summary>
    public static bool PrefersHtml(string? accept)
    {
        if (string.IsNullOrWhiteSpace(accept) || !MediaTypeHeaderValue.TryParseList([accept], out var ranges))
            return false;
        return Quality(ranges, "text/html") > Quality(ranges, "application/json");
    }

    private static double Quality(IList<MediaTypeHeaderValue> ranges, string mediaType)
    {
        var type = new MediaTypeHeaderValue(mediaType);
        return ranges.Where(type.IsSubsetOf)
            .OrderByDescending(r => r.MatchesAllTypes ? 0 : r.MatchesAllSubTypes ? 1 : 2)
            .Select(r => r.Quality ?? 1)
            .FirstOrDefault(0);
    }
}
