using System.Diagnostics.Metrics;
using Vidline.ServiceDefaults.Metrics;

namespace Vidline.ServiceDefaults.Tests;

/// <summary>The text a Prometheus server parses: names, types, label sets, histogram buckets, escaping.</summary>
public sealed class PrometheusExporterTests : IDisposable
{
    private readonly Meter _meter = new($"Test.{Guid.NewGuid():N}");
    private readonly PrometheusExporter _exporter;

    public PrometheusExporterTests() => _exporter = new PrometheusExporter(m => m == _meter);

    public void Dispose()
    {
        _exporter.Dispose();
        _meter.Dispose();
    }

    private string[] Lines() => _exporter.Scrape().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void A_counter_sums_per_label_set_and_ends_in_total()
    {
        var counter = _meter.CreateCounter<long>("vidline.jobs.status_changes", description: "Jobs by status.");
        counter.Add(1, new KeyValuePair<string, object?>("status", "completed"));
        counter.Add(2, new KeyValuePair<string, object?>("status", "completed"));
        counter.Add(1, new KeyValuePair<string, object?>("status", "failed"));

        Assert.Equal([
            "# HELP vidline_jobs_status_changes_total Jobs by status.",
            "# TYPE vidline_jobs_status_changes_total counter",
            "vidline_jobs_status_changes_total{status=\"completed\"} 3",
            "vidline_jobs_status_changes_total{status=\"failed\"} 1",
        ], Lines());
    }

    [Fact]
    public void Labels_are_sorted_by_name_and_a_unit_becomes_the_suffix()
    {
        var bytes = _meter.CreateCounter<long>("upload.size", "By");
        bytes.Add(10, new("zone", "b"), new("area", "a"));

        Assert.Contains("upload_size_bytes_total{area=\"a\",zone=\"b\"} 10", Lines());
        Assert.Contains("# HELP upload_size_bytes_total upload.size", Lines());
        // A name that already says its unit keeps it once.
        Assert.Equal("vidline_upload_bytes", ExportedMetric.MetricName("vidline.upload.bytes", "By"));
    }

    [Fact]
    public void An_up_down_counter_is_a_gauge_that_goes_both_ways()
    {
        var clients = _meter.CreateUpDownCounter<int>("sse.clients");
        clients.Add(3, new KeyValuePair<string, object?>("stream", "job"));
        clients.Add(-1, new KeyValuePair<string, object?>("stream", "job"));
        clients.Add(-1, new KeyValuePair<string, object?>("stream", "all"));

        Assert.Equal(["# HELP sse_clients sse.clients", "# TYPE sse_clients gauge", "sse_clients{stream=\"all\"} -1", "sse_clients{stream=\"job\"} 2"], Lines());
    }

    [Fact]
    public void An_observable_gauge_reports_the_value_read_at_scrape_time()
    {
        var value = 1.5;
        _meter.CreateObservableGauge("queue.depth", () => value);
        Assert.Contains("queue_depth 1.5", Lines());
        value = 4;
        Assert.Contains("queue_depth 4", Lines());
        Assert.Contains("# TYPE queue_depth gauge", Lines());
    }

    [Fact]
    public void A_histogram_has_cumulative_buckets_an_inf_bucket_a_sum_and_a_count()
    {
        var duration = _meter.CreateHistogram("stage.duration", "s", "Stage time.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 10] });
        foreach (var seconds in new[] { 0.5, 1, 5, 60 }) duration.Record(seconds, new KeyValuePair<string, object?>("stage", "transcoding"));

        Assert.Equal([
            "# HELP stage_duration_seconds Stage time.",
            "# TYPE stage_duration_seconds histogram",
            "stage_duration_seconds_bucket{stage=\"transcoding\",le=\"1\"} 2",
            "stage_duration_seconds_bucket{stage=\"transcoding\",le=\"10\"} 3",
            "stage_duration_seconds_bucket{stage=\"transcoding\",le=\"+Inf\"} 4",
            "stage_duration_seconds_sum{stage=\"transcoding\"} 66.5",
            "stage_duration_seconds_count{stage=\"transcoding\"} 4",
        ], Lines());
    }

    [Fact]
    public void A_histogram_without_advice_uses_prometheus_default_buckets_and_no_labels()
    {
        _meter.CreateHistogram<double>("wait").Record(0.3);
        var lines = Lines();
        Assert.Contains("wait_bucket{le=\"0.25\"} 0", lines);
        Assert.Contains("wait_bucket{le=\"0.5\"} 1", lines);
        Assert.Contains("wait_sum 0.3", lines);
        Assert.Contains("wait_count 1", lines);
        Assert.Equal(ExportedMetric.DefaultBuckets.Length + 1, lines.Count(l => l.StartsWith("wait_bucket")));
    }

    [Fact]
    public void Label_values_escape_backslash_quote_and_newline_and_names_become_valid()
    {
        _meter.CreateCounter<long>("odd-name.1", description: "line one\nline \\ two")
            .Add(1, new KeyValuePair<string, object?>("file.path", "C:\\a \"b\"\nc"));

        Assert.Equal([
            "# HELP odd_name_1_total line one\\nline \\\\ two",
            "# TYPE odd_name_1_total counter",
            "odd_name_1_total{file_path=\"C:\\\\a \\\"b\\\"\\nc\"} 1",
        ], Lines());
    }

    [Fact]
    public void Only_the_included_meters_are_exported_and_numbers_use_the_invariant_culture()
    {
        using var other = new Meter("Other.Meter");
        other.CreateCounter<long>("other").Add(1);
        _meter.CreateCounter<double>("ratio").Add(0.25);

        var text = _exporter.Scrape();
        Assert.DoesNotContain("other", text);
        Assert.Contains("ratio_total 0.25", text);
        Assert.Equal("+Inf", ExportedMetric.Number(double.PositiveInfinity));
        Assert.Equal("NaN", ExportedMetric.Number(double.NaN));
    }
}
