using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Vidline.ServiceDefaults;

/// <summary>How a public endpoint describes itself in the OpenAPI document.</summary>
public static class ApiDescription
{
    /// <summary>Error answers, each an <c>application/problem+json</c> body (RFC 9457).</summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder endpoint, params int[] statusCodes)
    {
        foreach (var status in statusCodes) endpoint.ProducesProblem(status);
        return endpoint;
    }

    /// <summary>A Server-Sent Events stream (<c>text/event-stream</c>).</summary>
    public static RouteHandlerBuilder ProducesEventStream(this RouteHandlerBuilder endpoint) =>
        endpoint.Produces<string>(StatusCodes.Status200OK, "text/event-stream"); // a type, or the content type is dropped
}
