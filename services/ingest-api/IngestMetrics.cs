using System.Diagnostics.Metrics;

namespace Vidline.IngestApi;

/// <summary>What ingest-api measures (scraped on its <c>/metrics</c>).</summary>
public static class IngestMetrics
{
    private static readonly Meter Meter = new("Vidline.IngestApi");

    public static readonly Counter<long> UploadBytes = Meter.CreateCounter<long>("vidline.upload.bytes", "By",
        "Bytes of uploaded videos written to storage.");
}
