using Vidline.Media;
using Vidline.Packager;
using Vidline.ServiceDefaults;
using Vidline.StageWorker;

var builder = WebApplication.CreateBuilder(args);

// Configuration
builder.AddServiceDefaults("packager");
builder.AddVidlineMedia();
builder.AddStageWorker();

// MassTransit: packaging and storage are separate stages with their own queues
builder.AddVidlineBus(x =>
{
    x.AddStageConsumer<PackageRenditionsConsumer>(builder.Configuration);
    x.AddStageConsumer<StoreOutputsConsumer>(builder.Configuration);
    x.AddCancellationListener("packager");
});

// Endpoints
var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
