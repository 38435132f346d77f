using Vidline.IngestApi;
using Vidline.IngestApi.Apis;
using Vidline.IngestApi.Jobs;
using Vidline.IngestApi.Persistence;
using Vidline.IngestApi.Uploads;
using Vidline.Media;
using Vidline.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

// Configuration
builder.AddServiceDefaults();
builder.AddVidlineDatabase();
builder.AddVidlineMedia();
builder.Services.Configure<UploadOptions>(builder.Configuration.GetSection("Upload"));
builder.Services.Configure<StagePolicy>(builder.Configuration.GetSection("Stages"));
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = builder.Configuration.GetValue("Upload:MaxBytes", new UploadOptions().MaxBytes));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<StagePolicy>>().Value);
builder.Services.AddScoped<UploadReceiver>();
builder.Services.AddSingleton<IdempotencyKeys>();
builder.Services.AddHostedService<StalledStageSweep>();

// MassTransit: the VideoJob saga, persisted in PostgreSQL
builder.AddVidlineBus(x =>
{
    x.AddSagaStateMachine<VideoJobStateMachine, VideoJobState>(typeof(VideoJobSagaDefinition))
        .PostgresRepository(VideoJobSagaDefinition.TableName);
    x.AddConsumer<CancelledJobCleanup>();
});

var app = builder.Build();
await IngestDatabase.MigrateAsync(app.Services);
await StageQueueTopology.DeclareAsync(app.Configuration);

// Endpoints
app.MapDefaultEndpoints();
app.MapIngestApi();
app.Run();

public partial class Program;
