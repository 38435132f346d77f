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
    x.AddConsumer<TranscodeVideoConsumer>().Endpoint(e => e.Name = StageQueues.Transcode);
    x.AddCancellationListener("transcoder");
    x.AddConfigureEndpointsCallback((name, endpoint) =>
    {
        if (name == StageQueues.Transcode) StageQueueTopology.ConfigureStageEndpoint(endpoint, builder.Configuration.StageConcurrency());
    });
});

// Endpoints
var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
