namespace Vidline.Media;

/// <summary>
/// The filters the configured ffmpeg offers. Builds differ (Debian's has zscale and tonemap but no libvmaf), so
/// what the pipeline does with HDR, interlacing and VMAF is decided by asking, not by assuming.
/// </summary>
public sealed class FfmpegCapabilities(FfmpegRunner runner)
{
    private Task<HashSet<string>>? _filters;

    private Task<string>? _version;

    /// <summary>ffmpeg's version line ("ffmpeg version 5.1.6-0+deb12u1 Copyright …"): which build makes the bytes.</summary>
    public async Task<string> VersionAsync(CancellationToken cancellationToken = default)
    {
        var detection = _version ??= DetectVersionAsync();
        try
        {
            return await detection.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch when (detection.IsFaulted)
        {
            _version = null;
            throw;
        }
    }

    private async Task<string> DetectVersionAsync()
    {
        string? first = null;
        await runner.RunFfmpegAsync(["-version"], line => first ??= line, null, CancellationToken.None).ConfigureAwait(false);
        return first ?? "";
    }

    public async Task<bool> HasFilterAsync(string name, CancellationToken cancellationToken = default) =>
        (await FiltersAsync(cancellationToken).ConfigureAwait(false)).Contains(name);

    public async Task<IReadOnlySet<string>> FiltersAsync(CancellationToken cancellationToken = default)
    {
        // The detection itself is not cancelled, so one caller's cancellation is never remembered
        // as the answer; a failure (ffmpeg missing) is forgotten so the next call asks again.
        var detection = _filters ??= DetectFiltersAsync();
        try
        {
            return await detection.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch when (detection.IsFaulted)
        {
            _filters = null;
            throw;
        }
    }

    private async Task<HashSet<string>> DetectFiltersAsync()
    {
        // Lines look like " TS. bwdif             V->V       Deinterlace the input image."
        var filters = new HashSet<string>(StringComparer.Ordinal);
        await runner.RunFfmpegAsync(["-filters"], line =>
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 3 && parts[0].Length == 3 && parts[2].Contains("->")) filters.Add(parts[1]);
        }, null, CancellationToken.None).ConfigureAwait(false);
        return filters;
    }
}
