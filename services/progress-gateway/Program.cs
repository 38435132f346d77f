using MassTransit;
using Vidline.ProgressGateway;
using Vidline.ProgressGateway.Access;
using Vidline.ProgressGateway.Apis;
using Vidline.ProgressGateway.Consumers;
using Vidline.ProgressGateway.Operations;
using Vidline.ServiceDefaults;
using Vidline.ServiceDefaults.Limits;
using Vidline.ServiceDefaults.Tenancy;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("progress-gateway");
builder.AddVidlineDatabase();
builder.AddTenantAuthentication();
builder.AddProgressGateway();
builder.AddGatewayOperations();
builder.AddStreamAccess();
builder.AddOutputLinks();
builder.AddApiLimits();

// Consumers store events (once, whichever instance takes them); each instance's EventTailer streams them.
builder.AddVidlineBus(x =>
{
    // While PostgreSQL is away, events wait unacknowledged in the queue and are stored once it is back.
    x.AddConfigureEndpointsCallback((_, endpoint) => endpoint.UseDatabaseOutageRetry());
    x.AddConsumer<ProgressReportedConsumer, ProgressReportedConsumerDefinition>();
    x.AddConsumer<JobStatusChangedConsumer, JobStatusChangedConsumerDefinition>();
    x.AddConsumer<WarningReportedConsumer, WarningReportedConsumerDefinition>();
    x.AddConsumer<JobExpiredConsumer, JobExpiredConsumerDefinition>();
    x.AddQuorumQueues(GatewayEndpoint.Name);
});

var app = builder.Build();
app.MapDefaultEndpoints();
app.UseDefaultFiles();
app.UseStaticFiles();
// The page and its files are public; everything after this needs a tenant unless its endpoint says otherwise.
app.UseWebPageForBrowsers();
app.UseCrossOrigin();          // first: a CORS preflight carries no key
app.UseTenantAuthentication();
app.UseApiLimits();            // after authentication: a rate limit counts against the tenant
app.MapJobsApi();
app.MapProgressApi();
app.MapStreamTokenApi();
app.MapStagesApi();
app.MapGatewayOperations();

await Database.MigrateAsync(app.Services, "progress-gateway", GatewayMigrations.All);
await ApiKeys.MigrateAsync(app.Services);
if (await app.Services.GetRequiredService<EventHistory>().IdsAheadOfClusterAsync(default) is { } restoredElsewhere)
{
    // Refuse to start rather than store events that clients would never see.
    app.Logger.LogCritical("Not starting: {Reason}", restoredElsewhere);
    Environment.ExitCode = 1;
    return;
}
app.Run();

public partial class Program;
