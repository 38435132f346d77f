using System.Net.Sockets;
using Npgsql;

namespace Vidline.ServiceDefaults.Tests;

/// <summary>Which database errors a consumer waits out (the database is away) and which it lets fail (a bug).</summary>
public class DatabaseOutageTests
{
    [Fact]
    public async Task A_server_that_is_not_there_is_an_outage()
    {
        // Nothing listens on port 1: the same error as a stopped server.
        await using var connection = new NpgsqlConnection("Host=127.0.0.1;Port=1;Username=x;Password=x;Timeout=2");
        var error = await Assert.ThrowsAnyAsync<Exception>(() => connection.OpenAsync());
        Assert.True(DatabaseOutage.IsTransient(error), error.ToString());
    }

    [Theory]
    [InlineData("57P01", true)]  // admin_shutdown: the server is stopping
    [InlineData("57P03", true)]  // cannot_connect_now: the server is starting
    [InlineData("08006", true)]  // connection_failure
    [InlineData("53300", true)]  // too_many_connections
    [InlineData("23505", false)] // unique_violation: a bug, not an outage
    [InlineData("42P01", false)] // undefined_table
    public void Server_errors_are_outages_by_their_sqlstate_class(string sqlState, bool transient) =>
        Assert.Equal(transient, DatabaseOutage.IsTransient(new PostgresException("message", "FATAL", "FATAL", sqlState)));

    [Fact]
    public void Broken_connections_are_outages_wherever_they_are_wrapped_and_cancellation_is_not()
    {
        Assert.True(DatabaseOutage.IsTransient(new NpgsqlException("read failed", new IOException("reset", new SocketException(104)))));
        Assert.True(DatabaseOutage.IsTransient(new InvalidOperationException("wrapped", new TimeoutException())));
        Assert.False(DatabaseOutage.IsTransient(new OperationCanceledException()));
        Assert.False(DatabaseOutage.IsTransient(new InvalidOperationException("a bug")));
    }
}
