using System.Text;
using System.Text.Json;
using Vidline.Contracts;
using Vidline.Media.Storage;

namespace Vidline.StageWorker;

/// <summary>
/// The answer of every finished attempt, kept beside the job's work (<c>work/{job}/completed/{stage}-attempt-{n}.json</c>)
/// and written by atomic rename once the attempt's output is in place. A command delivered again (the node was
/// killed after finishing but before acknowledging, or the saga's outbox sent it twice) finds it and answers with
/// the same event instead of redoing the work. The records go with <c>work/{job}</c> when the job's files are removed.
/// </summary>
public sealed class CompletedAttempts(IMediaStore store)
{
    public static string KeyOf(IStageCommand command, PipelineStage stage) =>
        $"{StorageKeys.Work(command.JobId)}/completed/{stage.Name}-attempt-{command.Attempt}.json";

    public async Task<IStageCompleted?> FindAsync(IStageCommand command, PipelineStage stage, CancellationToken cancellationToken)
    {
        var key = KeyOf(command, stage);
        if (!store.Exists(key)) return null;
        await using var file = File.OpenRead(store.PathFor(key));
        return (IStageCompleted?)await JsonSerializer.DeserializeAsync(file, stage.Completed!, cancellationToken: cancellationToken);
    }

    public async Task SaveAsync(IStageCommand command, PipelineStage stage, IStageCompleted completed, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(completed, stage.Completed!)));
        // The store writes to a temporary name and renames it into place: a record is whole or absent.
        await store.WriteAsync(KeyOf(command, stage), content, null, cancellationToken);
    }
}
