using Chekt.PartnerApi.Data;
using Dapper;

namespace Chekt.PartnerApi.Tests.Infrastructure;

/// <summary>The server's core services (database, migrator, key store) for a test database, outside HTTP.</summary>
public static class TestServices
{
    public static ServiceProvider For(TestDatabase database, IDictionary<string, string?>? extra = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(database.Settings.ToDictionary(s => s.Key, s => (string?)s.Value))
            .AddInMemoryCollection(extra ?? new Dictionary<string, string?>())
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddPartnerCore(configuration);
        return services.BuildServiceProvider();
    }

    public static async Task<T> ScalarAsync<T>(this IServiceProvider services, string sql, object? parameters = null)
    {
        await using var connection = await services.GetRequiredService<Db>().OpenAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    public static async Task<IReadOnlyList<T>> QueryAsync<T>(this IServiceProvider services, string sql, object? parameters = null)
    {
        await using var connection = await services.GetRequiredService<Db>().OpenAsync();
        return [.. await connection.QueryAsync<T>(sql, parameters)];
    }

    public static async Task<int> ExecuteAsync(this IServiceProvider services, string sql, object? parameters = null)
    {
        await using var connection = await services.GetRequiredService<Db>().OpenAsync();
        return await connection.ExecuteAsync(sql, parameters);
    }
}
