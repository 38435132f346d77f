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
        builder.Services.Configure<MediaOptions>(builder.Configuration.GetSection(MediaOptions.SectionName));
        builder.Services.Configure<LadderOptions>(builder.Configuration.GetSection(LadderOptions.SectionName));
        builder.Services.Configure<StorageOptions>(builder.Configuration.GetSection("Storage"));
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<MediaOptions>>().Value);
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<LadderOptions>>().Value);
        builder.Services.AddSingleton<FfmpegRunner>();
        builder.Services.AddSingleton<MediaProbe>();
        builder.Services.AddSingleton<RenditionLadder>();
        builder.Services.AddSingleton<LadderTranscoder>();
        builder.Services.AddSingleton<QualityMeter>();
        builder.Services.AddSingleton<AbrPackager>();
        builder.Services.AddSingleton<IMediaStore, FileSystemMediaStore>();
        return builder;
    }
}
