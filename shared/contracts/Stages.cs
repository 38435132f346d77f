namespace Vidline.Contracts;

/// <summary>
/// One step of the pipeline: its name (also the name of its work queue and of the saga state that waits
/// for it), its share of the job's overall progress, and — for stages done by a worker — the command that
/// starts it and the event that ends it. <see cref="Stages"/> holds the table; everything else reads it.
/// </summary>
public sealed record PipelineStage(string Name, double BandStart, double BandEnd, Type? Command = null, Type? Completed = null)
{
    /// <summary>The RabbitMQ queue a worker stage takes its commands from (competing consumers).</summary>
    public string Queue => Name;

    /// <summary>Overall job progress (0–100) for <paramref name="stageProgress"/> (0–100, clamped) within this stage.</summary>
    public double Overall(double stageProgress)
    {
        var clamped = Math.Clamp(double.IsNaN(stageProgress) ? 0 : stageProgress, 0, 100);
        return Math.Round(BandStart + (BandEnd - BandStart) * clamped / 100, 2);
    }

    public override string ToString() => Name;

    // Messages carry stage names as plain strings.
    public static implicit operator string(PipelineStage stage) => stage.Name;
}

/// <summary>The stage table: the pipeline's stages in order. Adding a stage starts here.</summary>
public static class Stages
{
    public static readonly PipelineStage Uploading = new("uploading", 0, 10);
    public static readonly PipelineStage Transcoding = new("transcoding", 10, 50, typeof(TranscodeVideo), typeof(VideoTranscoded));
    public static readonly PipelineStage Validation = new("validation", 50, 70, typeof(ValidateRenditions), typeof(RenditionsValidated));
    public static readonly PipelineStage Packaging = new("packaging", 70, 85, typeof(PackageRenditions), typeof(RenditionsPackaged));
    public static readonly PipelineStage Storage = new("storage", 85, 100, typeof(StoreOutputs), typeof(OutputsStored));

    public static readonly IReadOnlyList<PipelineStage> InOrder = [Uploading, Transcoding, Validation, Packaging, Storage];

    /// <summary>The stages a worker service does, each on its own queue.</summary>
    public static IEnumerable<PipelineStage> Worked => InOrder.Where(s => s.Command is not null);

    public static PipelineStage? Find(string? name) => InOrder.FirstOrDefault(s => s.Name == name);

    /// <summary>The stage whose command is <paramref name="command"/>.</summary>
    public static PipelineStage StartedBy(Type command) =>
        InOrder.FirstOrDefault(s => s.Command == command) ?? throw new ArgumentException($"{command.Name} starts no stage.", nameof(command));

    /// <summary>Highest message priority a job may ask for (RabbitMQ x-max-priority of the stage queues).</summary>
    public const byte MaxPriority = 9;
}

/// <summary>Job statuses as the public API shows them.</summary>
public static class JobStatuses
{
    public const string Pending = "pending";
    public const string Processing = "processing";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All = [Pending, Processing, Completed, Failed, Cancelled];

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
