namespace Vidline.Contracts;

/// <summary>The pipeline's stages, in order. The one place their names are spelled.</summary>
public static class Stages
{
    public const string Uploading = "uploading";
    public const string Transcoding = "transcoding";
    public const string Validation = "validation";
    public const string Packaging = "packaging";
    public const string Storage = "storage";

    public static readonly IReadOnlyList<string> InOrder = [Uploading, Transcoding, Validation, Packaging, Storage];

    public static bool IsKnown(string stage) => InOrder.Contains(stage);
}

/// <summary>Job statuses as the public API shows them.</summary>
public static class JobStatuses
{
    public const string Pending = "pending";
    public const string Processing = "processing";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsFinal(string status) => status is Completed or Failed or Cancelled;
}

/// <summary>Server-Sent Event types the gateway emits.</summary>
public static class EventTypes
{
    public const string Status = "status";
    public const string Progress = "progress";
    public const string Stage = "stage";
    public const string Warning = "warning";
    public const string Done = "done";
}

/// <summary>RabbitMQ queue names of the stage workers (competing consumers, one queue per stage).</summary>
public static class StageQueues
{
    public const string Transcode = "transcode";
    public const string Validate = "validate";
    public const string Package = "package";
    public const string Store = "store";

    /// <summary>Highest message priority a job may ask for (RabbitMQ x-max-priority).</summary>
    public const byte MaxPriority = 9;
}
