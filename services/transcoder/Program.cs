using Vidline.Contracts;
using Vidline.Media;
using Vidline.ServiceDefaults;
using Vidline.Transcoder;

var builder = WebApplication.CreateBuilder(args);

// Configuration
builder.AddServiceDefaults();
builder.AddVidlineMedia();
builder.AddStageWorker();

// MassTransit: competing consumers on the priority queue "transcode"; start more processes for more capacity
builder.AddVidlineBus(x =>
{
    x.AddStageConsumer<TranscodeVideoConsumer>(StageQueues.Transcode, builder.Configuration);
    x.AddCancellationListener("transcoder");
});

// Endpoints
var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
