namespace Vidline.IngestApi.Uploads;

/// <summary>Why an upload was turned away, with the HTTP status that says so.</summary>
public sealed class UploadRejection(int statusCode, string title, string detail) : Exception(detail)
{
    public int StatusCode { get; } = statusCode;
    public string Title { get; } = title;
    public string Detail { get; } = detail;

    /// <summary>Whether the refused upload had already created its job (which then failed with this reason).</summary>
    public bool JobCreated { get; set; }
}
