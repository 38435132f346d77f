using Vidline.Contracts;

namespace Vidline.ProgressGateway.Apis;

/// <summary>The stage table as clients see it: the web page draws one bar per stage from it.</summary>
public static class StagesApi
{
    public static IEndpointRouteBuilder MapStagesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/stages", () => TypedResults.Ok(Stages.InOrder.Select(s => new StageView(s.Name, s.BandStart, s.BandEnd))))
            .WithSummary("The pipeline's stages, in order, with each one's band of the overall progress")
            .AllowAnonymous(); // the page draws its bars before it has a key
        return app;
    }
}

/// <summary>One stage, in pipeline order, with its share of the job's overall progress.</summary>
public sealed record StageView(string Name, double BandStart, double BandEnd);
