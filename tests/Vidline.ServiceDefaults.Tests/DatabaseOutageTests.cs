using System.Net.Sockets;
using Npgsql;
using Vidline.ServiceDefaults;

namespace Vidline.ServiceDefaults.Tests;

public class DatabaseOutageTests
{
    public static TheoryData<Exception> Outages => new()
    {
        new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused)),
        new NpgsqlException("Exception while reading from stream", new IOException("connection reset")),
        new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01"),
        new PostgresException("the database system is starting up", "FATAL", "FATAL", "57P03"),
        new PostgresException("sorry, too many clients already", "FATAL", "FATAL", "53300"),
        new PostgresException("connection failure", "FATAL", "FATAL", "08006"),
        new InvalidOperationException("saga failed", new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused))),
        new AggregateException(new PostgresException("shutting down", "FATAL", "FATAL", "57P01")),
    };

    public static TheoryData<Exception> Faults => new()
    {
        new PostgresException("duplicate key value violates unique constraint", "ERROR", "ERROR", "23505"),
        new PostgresException("unsupported Unicode escape sequence", "ERROR", "ERROR", "22P05"),
        new PostgresException("column does not exist", "ERROR", "ERROR", "42703"),
        new InvalidOperationException("a bug"),
        new NullReferenceException(),
    };

    [Theory, MemberData(nameof(Outages))]
    public void An_unreachable_or_restarting_database_is_an_outage(Exception e) => Assert.True(DatabaseOutage.IsCause(e));

    [Theory, MemberData(nameof(Faults))]
    public void Bad_data_and_bugs_are_not(Exception e) => Assert.False(DatabaseOutage.IsCause(e));
}
