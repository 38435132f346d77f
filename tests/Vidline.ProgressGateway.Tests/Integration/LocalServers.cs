using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>The machine's shared PostgreSQL, on which each test run makes its own database and drops it after, and free ports.</summary>
public static class LocalServers
{
    public const string Postgres = "Host=127.0.0.1;Port=5432;Username=postgres;Password=vidline";

    public static async Task DropDatabaseAsync(string name)
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection($"{Postgres};Database=postgres;Pooling=false");
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
