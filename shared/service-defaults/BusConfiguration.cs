using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Vidline.ServiceDefaults;

/// <summary>RabbitMQ connection settings (section <c>RabbitMq</c>, e.g. <c>RabbitMq__Host</c>).</summary>
public sealed class RabbitMqOptions
{
    public string Host { get; set; } = "localhost";
    public ushort Port { get; set; } = 5672;
    public string VirtualHost { get; set; } = "/";
    public string Username { get; set; } = "guest";
    public string Password { get; set; } = "guest";
}

public static class BusConfiguration
{
    /// <summary>
    /// MassTransit on RabbitMQ with the conventions every Vidline service shares: in-process retry with
    /// exponential backoff (the broker here has no delayed-message plugin, so no delayed redelivery),
    /// then the message goes to the queue's <c>_error</c> queue where an operator can see it.
    /// </summary>
    public static IHostApplicationBuilder AddVidlineBus(this IHostApplicationBuilder builder,
        Action<IBusRegistrationConfigurator> register,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? configureBus = null)
    {
        var options = builder.Configuration.GetSection("RabbitMq").Get<RabbitMqOptions>() ?? new RabbitMqOptions();
        builder.Services.AddMassTransit(x =>
        {
            x.SetKebabCaseEndpointNameFormatter();
            // MassTransit 8.4 reports anonymous usage to its vendor by default; Vidline calls no one.
            x.ConfigureUsageTelemetryOptions(o => o.Enabled = false);
            // The bus's own health check is the readiness check for RabbitMQ.
            x.ConfigureHealthCheckOptions(o => o.Name = "rabbitmq");
            register(x);
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(options.Host, options.Port, options.VirtualHost, h =>
                {
                    h.Username(options.Username);
                    h.Password(options.Password);
                });
                cfg.UseConsumeFilter(typeof(JobLogScopeFilter<>), context);
                cfg.UseMessageRetry(r => r.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(400)));
                configureBus?.Invoke(context, cfg);
                cfg.ConfigureEndpoints(context);
            });
        });
        return builder;
    }
}
