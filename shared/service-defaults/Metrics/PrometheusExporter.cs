using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Vidline.ServiceDefaults.Metrics;

/// <summary>
/// Collects the measurements of <see cref="System.Diagnostics.Metrics"/> instruments in this process (those of the
/// meters <c>include</c> accepts) and renders them in Prometheus' text exposition format (version 0.0.4). No
/// Prometheus client package restores here, and this is all a scrape needs: counters, gauges and histograms with
/// their labels.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, ExportedMetric> _metrics = new();

    public PrometheusExporter(Func<Meter, bool> include)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!include(instrument.Meter)) return;
            var metric = ExportedMetric.For(instrument);
            _metrics[instrument] = metric;
            listener.EnableMeasurementEvents(instrument, metric);
        };
        _listener.MeasurementsCompleted = (instrument, _) => _metrics.TryRemove(instrument, out ExportedMetric? _);
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((ExportedMetric)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((ExportedMetric)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((ExportedMetric)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>((_, value, tags, state) => ((ExportedMetric)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Every metric's current values as Prometheus text; observable instruments are read now.</summary>
    public string Scrape()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        // Two instruments may map to one name (the same name in two meters): one HELP/TYPE header, all their series.
        foreach (var family in _metrics.Values.GroupBy(m => m.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var first = family.First();
            text.Append("# HELP ").Append(family.Key).Append(' ').Append(EscapeHelp(first.Help)).Append('\n');
            text.Append("# TYPE ").Append(family.Key).Append(' ').Append(first.Type).Append('\n');
            foreach (var metric in family) metric.WriteSeries(text);
        }
        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    internal static string EscapeHelp(string help) => help.Replace("\\", @"\\").Replace("\n", @"\n");
}
