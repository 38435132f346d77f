using System.Text.Json;
using Vidline.Contracts;
using Vidline.ServiceDefaults;

namespace Vidline.ProgressGateway;

/// <summary>
/// The JSON each event type carries on the wire. Built once when the event is stored (column <c>data</c>),
/// so replay and live delivery send byte-for-byte the same payload.
/// </summary>
public static class EventPayloads
{
    public static string Progress(ProgressReported e)
    {
        var payload = new Dictionary<string, object?>
        {
            ["job_id"] = e.JobId,
            ["run"] = e.Run,
            ["stage"] = e.Stage,
            ["progress"] = OverallProgress(e),
            ["stage_progress"] = Math.Round(Math.Clamp(double.IsNaN(e.Progress) ? 0 : e.Progress, 0, 100), 2),
            ["message"] = e.Message,
            ["timestamp"] = e.Timestamp,
        };
        if (e.Node is not null) payload["node"] = e.Node;
        // Details only where ffmpeg gave them: absent keys are clearer to a client than nulls.
        if (e.Details is { } d)
        {
            if (d.CurrentFrame is { } frame) payload["current_frame"] = frame;
            if (d.FrameCount is { } count) payload["frame_count"] = count;
            if (d.Fps is { } fps) payload["fps"] = fps;
            if (d.Speed is { } speed) payload["speed"] = speed;
            if (d.EtaSeconds is { } eta) payload["eta_seconds"] = eta;
        }
        return JsonSerializer.Serialize(payload, ServiceDefaults.ServiceDefaults.ApiJson);
    }

    /// <summary>Overall 0–100; a stage outside the known bands keeps its own figure rather than failing the batch.</summary>
    public static double OverallProgress(ProgressReported e) =>
        Stages.Find(e.Stage) is { } stage ? stage.Overall(e.Progress) : Math.Round(Math.Clamp(double.IsNaN(e.Progress) ? 0 : e.Progress, 0, 100), 2);

    public static string Stage(JobStatusChanged e) => JsonSerializer.Serialize(new
    {
        job_id = e.JobId,
        // The key can change while the upload arrives (the form's `key` field may follow the file).
        key = e.Key,
        status = e.Status,
        stage = e.Stage,
        run = e.Run,
        attempt = e.Attempt,
        timestamp = e.Timestamp,
    }, ServiceDefaults.ServiceDefaults.ApiJson);

    public static string Done(JobStatusChanged e) => JsonSerializer.Serialize(new
    {
        job_id = e.JobId,
        run = e.Run,
        status = e.Status,
        error_message = e.ErrorMessage,
        result = e.Result,
    }, ServiceDefaults.ServiceDefaults.ApiJson);

    public static string Warning(WarningReported e) => JsonSerializer.Serialize(new
    {
        job_id = e.JobId,
        run = e.Run,
        stage = e.Stage,
        message = e.Message,
        timestamp = e.Timestamp,
    }, ServiceDefaults.ServiceDefaults.ApiJson);

    public static string? Result(JobResult? result) =>
        result is null ? null : JsonSerializer.Serialize(result, ServiceDefaults.ServiceDefaults.ApiJson);
}
