using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Vidline.Media.Storage;

namespace Vidline.Media;

public static class MediaRegistration
{
    /// <summary>ffmpeg tooling (section <c>Media</c>, ladder in <c>Media:Ladder</c>) and the media store (section <c>Storage</c>).</summary>
    public static IHostApplicationBuilder AddVidlineMedia(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<MediaOptions>().Bind(builder.Configuration.GetSection(MediaOptions.SectionName))
            .Validate(o => o.Niceness is >= 0 and <= 19, "Media:Niceness must be 0 (not lowered) to 19 (the lowest priority).")
            .ValidateOnStart();
        builder.Services.Configure<LadderOptions>(builder.Configuration.GetSection(LadderOptions.SectionName));
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<MediaOptions>>().Value);
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<LadderOptions>>().Value);
        builder.Services.AddSingleton<FfmpegRunner>();
        builder.Services.AddSingleton<MediaProbe>();
        builder.Services.AddSingleton<RenditionLadder>();
        builder.Services.AddSingleton<LadderTranscoder>();
        builder.Services.AddSingleton<QualityMeter>();
        builder.Services.AddSingleton<AbrPackager>();
        return builder.AddVidlineStorage();
    }

    /// <summary>Just the media store (section <c>Storage</c>), for services that move files but run no ffmpeg.</summary>
    public static IHostApplicationBuilder AddVidlineStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<StorageOptions>(builder.Configuration.GetSection("Storage"));
        builder.Services.AddSingleton<IMediaStore, FileSystemMediaStore>();
        builder.Services.AddHealthChecks().AddCheck<StorageWritable>("storage", timeout: TimeSpan.FromSeconds(5));
        return builder;
    }
}
