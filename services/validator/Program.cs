using Microsoft.Extensions.Options;
using Vidline.Contracts;
using Vidline.Media;
using Vidline.ServiceDefaults;
using Vidline.Validator;

var builder = WebApplication.CreateBuilder(args);

// Configuration
builder.AddServiceDefaults();
builder.AddVidlineMedia();
builder.AddStageWorker();
builder.Services.Configure<QualityGateOptions>(builder.Configuration.GetSection("QualityGate"));
builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<QualityGateOptions>>().Value);
builder.Services.AddSingleton<QualityGate>();
builder.Services.AddSingleton<RenditionInspector>();

// MassTransit: competing consumers on the priority queue "validate"
builder.AddVidlineBus(x =>
{
    x.AddStageConsumer<ValidateRenditionsConsumer>(StageQueues.Validate, builder.Configuration);
    x.AddCancellationListener("validator");
});

// Endpoints
var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
