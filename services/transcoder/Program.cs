using Vidline.Media;
using Vidline.ServiceDefaults;
using Vidline.StageWorker;
using Vidline.Transcoder;

var builder = WebApplication.CreateBuilder(args);

// Configuration
builder.AddServiceDefaults("transcoder");
builder.AddVidlineMedia();
builder.AddStageWorker();

// MassTransit: competing consumers on the transcoding queue; start more processes for more capacity
builder.AddVidlineBus(x =>
{
    x.AddStageConsumer<TranscodeVideoConsumer>(builder.Configuration);
    x.AddCancellationListener("transcoder");
});

// Endpoints
var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
