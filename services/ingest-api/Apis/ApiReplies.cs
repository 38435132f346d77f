using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Vidline.IngestApi.Apis;

/// <summary>202 to an upload: the job and where to follow it.</summary>
public sealed record JobAccepted(Guid JobId, string Message, string StatusUrl, string StreamUrl);

/// <summary>202 to a cancel or retry the saga accepted.</summary>
public sealed record JobCommandReply(Guid JobId, string Message);

/// <summary>
/// The form of <c>POST /process</c>, for the API description only: the endpoint reads the multipart body itself (streamed
/// to storage) and answers a body of another type with its own 415, so it declares no <c>Accepts</c> (which would make
/// routing refuse such a request before the endpoint could explain).
/// </summary>
public static class UploadForm
{
    public static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["multipart/form-data"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string> { "video" },
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["video"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "The video file." },
                            ["key"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The name the job goes by (default: the file's name)." },
                            ["priority"] = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Integer, Minimum = "0", Maximum = "9",
                                Description = "0 (default) to 9: higher goes first in every stage's queue.",
                            },
                        },
                    },
                },
            },
        };
        return Task.CompletedTask;
    }
}
