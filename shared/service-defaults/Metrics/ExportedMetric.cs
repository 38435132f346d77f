using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Vidline.ServiceDefaults.Metrics;

/// <summary>One instrument's series (one per label set) and how they read in Prometheus text.</summary>
internal abstract class ExportedMetric(string name, string help)
{
    /// <summary>Prometheus' default buckets, for a histogram whose instrument gives no advice.</summary>
    internal static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly Dictionary<string, string> UnitSuffixes = new()
    {
        ["s"] = "seconds", ["ms"] = "milliseconds", ["By"] = "bytes",
    };

    public string Name => name;
    public string Help => help;
    public abstract string Type { get; }

    public abstract void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags);
    public abstract void WriteSeries(StringBuilder text);

    public static ExportedMetric For(Instrument instrument)
    {
        var name = MetricName(instrument.Name, instrument.Unit);
        var help = string.IsNullOrWhiteSpace(instrument.Description) ? instrument.Name : instrument.Description;
        var type = instrument.GetType();
        var generic = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        if (generic == typeof(Counter<>)) return new Sum(name.EndsWith("_total") ? name : name + "_total", help, "counter", cumulative: false);
        if (generic == typeof(ObservableCounter<>)) return new Sum(name.EndsWith("_total") ? name : name + "_total", help, "counter", cumulative: true);
        if (generic == typeof(UpDownCounter<>)) return new Sum(name, help, "gauge", cumulative: false);
        if (generic == typeof(Histogram<>)) return new Distribution(name, help, BucketsOf(instrument));
        // ObservableGauge, ObservableUpDownCounter and Gauge report the current value.
        return new Sum(name, help, "gauge", cumulative: true);
    }

    /// <summary><c>vidline.stage.duration</c> in <c>s</c> becomes <c>vidline_stage_duration_seconds</c>.</summary>
    internal static string MetricName(string instrument, string? unit)
    {
        var name = Sanitize(instrument);
        if (unit is not null && UnitSuffixes.TryGetValue(unit, out var suffix) && !name.EndsWith("_" + suffix)) name += "_" + suffix;
        return name;
    }

    internal static string Sanitize(string name)
    {
        var clean = new StringBuilder(name.Length);
        foreach (var c in name) clean.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        if (clean.Length == 0 || char.IsAsciiDigit(clean[0])) clean.Insert(0, '_');
        return clean.ToString();
    }

    /// <summary>The label set, sorted by name and escaped: <c>a="x",b="y"</c> (without braces).</summary>
    internal static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty) return "";
        var pairs = new List<(string Name, string Value)>(tags.Length);
        foreach (var tag in tags)
            pairs.Add((Sanitize(tag.Key), tag.Value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : tag.Value?.ToString() ?? ""));
        pairs.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return string.Join(",", pairs.Select(p => $"{p.Name}=\"{EscapeLabel(p.Value)}\""));
    }

    internal static string EscapeLabel(string value) => value.Replace("\\", @"\\").Replace("\"", "\\\"").Replace("\n", @"\n");

    internal static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    protected static string Braced(string labels) => labels.Length == 0 ? "" : "{" + labels + "}";

    private static double[] BucketsOf(Instrument instrument) => instrument switch
    {
        Histogram<double> { Advice.HistogramBucketBoundaries: { Count: > 0 } b } => [.. b],
        Histogram<long> { Advice.HistogramBucketBoundaries: { Count: > 0 } b } => [.. b.Select(x => (double)x)],
        Histogram<int> { Advice.HistogramBucketBoundaries: { Count: > 0 } b } => [.. b.Select(x => (double)x)],
        _ => DefaultBuckets,
    };

    /// <summary>Counters add up; gauges and observable instruments report the current value.</summary>
    private sealed class Sum(string name, string help, string type, bool cumulative) : ExportedMetric(name, help)
    {
        private readonly ConcurrentDictionary<string, double> _series = new();

        public override string Type => type;

        public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = Labels(tags);
            if (cumulative) _series[labels] = value;
            else _series.AddOrUpdate(labels, value, (_, total) => total + value);
        }

        public override void WriteSeries(StringBuilder text)
        {
            foreach (var (labels, value) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
                text.Append(Name).Append(Braced(labels)).Append(' ').Append(Number(value)).Append('\n');
        }
    }

    private sealed class Distribution(string name, string help, double[] bounds) : ExportedMetric(name, help)
    {
        private readonly ConcurrentDictionary<string, Cells> _series = new();

        public override string Type => "histogram";

        public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var cells = _series.GetOrAdd(Labels(tags), _ => new Cells(bounds.Length));
            var bucket = Array.FindIndex(bounds, bound => value <= bound);
            lock (cells)
            {
                cells.Counts[bucket < 0 ? bounds.Length : bucket]++;
                cells.Sum += value;
                cells.Count++;
            }
        }

        public override void WriteSeries(StringBuilder text)
        {
            foreach (var (labels, cells) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                long[] counts;
                double sum;
                long count;
                lock (cells) (counts, sum, count) = ((long[])cells.Counts.Clone(), cells.Sum, cells.Count);
                var prefix = labels.Length == 0 ? "" : labels + ",";
                long cumulative = 0;
                for (var i = 0; i < bounds.Length; i++)
                {
                    cumulative += counts[i];
                    text.Append(Name).Append("_bucket{").Append(prefix).Append("le=\"").Append(Number(bounds[i])).Append("\"} ").Append(cumulative).Append('\n');
                }
                text.Append(Name).Append("_bucket{").Append(prefix).Append("le=\"+Inf\"} ").Append(count).Append('\n');
                text.Append(Name).Append("_sum").Append(Braced(labels)).Append(' ').Append(Number(sum)).Append('\n');
                text.Append(Name).Append("_count").Append(Braced(labels)).Append(' ').Append(count).Append('\n');
            }
        }

        private sealed class Cells(int bounds)
        {
            public readonly long[] Counts = new long[bounds + 1];
            public double Sum;
            public long Count;
        }
    }
}
