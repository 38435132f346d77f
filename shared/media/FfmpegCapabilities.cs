namespace Vidline.Media;

/// <summary>
/// The build and the filters of the configured ffmpeg. Builds differ (Debian's has zscale and tonemap but no libvmaf), so
/// what the pipeline does with HDR, interlacing and VMAF is decided by asking, not by assuming; and segments are gone on
/// from only by the build that made them.
/// </summary>
public sealed class FfmpegCapabilities(FfmpegRunner runner)
{
    private readonly AskedOnce<HashSet<string>> _filters = new(() => DetectFiltersAsync(runner));
    private readonly AskedOnce<string> _version = new(() => DetectVersionAsync(runner));

    /// <summary>ffmpeg's version line ("ffmpeg version 5.1.6-0+deb12u1 Copyright …"): which build makes the bytes.</summary>
    public Task<string> VersionAsync(CancellationToken cancellationToken = default) => _version.AnswerAsync(cancellationToken);

    public async Task<bool> HasFilterAsync(string name, CancellationToken cancellationToken = default) =>
        (await FiltersAsync(cancellationToken).ConfigureAwait(false)).Contains(name);

    public async Task<IReadOnlySet<string>> FiltersAsync(CancellationToken cancellationToken = default) =>
        await _filters.AnswerAsync(cancellationToken).ConfigureAwait(false);

    private static async Task<string> DetectVersionAsync(FfmpegRunner runner)
    {
        string? first = null;
        await runner.RunFfmpegAsync(["-version"], line => first ??= line, null, CancellationToken.None).ConfigureAwait(false);
        return first ?? "";
    }

    private static async Task<HashSet<string>> DetectFiltersAsync(FfmpegRunner runner)
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

    /// <summary>
    /// A question to ffmpeg asked once and remembered. The asking itself is not cancelled, so one caller's cancellation
    /// is never remembered as the answer; a failure (ffmpeg missing) is forgotten so the next call asks again.
    /// </summary>
    private sealed class AskedOnce<T>(Func<Task<T>> ask)
    {
        private Task<T>? _answer;

        public async Task<T> AnswerAsync(CancellationToken cancellationToken)
        {
            var asking = _answer ??= ask();
            try
            {
                return await asking.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch when (asking.IsFaulted)
            {
                _answer = null;
                throw;
            }
        }
    }
}
