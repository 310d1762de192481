using Chekt.PartnerApi.Cli;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.Data;

public sealed class HousekeepingTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task ExpiredRowsAreRemovedAndLiveOnesKept(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var services = TestServices.For(database);
        await services.GetRequiredService<Migrator>().MigrateAsync();
        var @operator = services.GetRequiredService<Operator>();
        var partner = await @operator.AddPartnerAsync("P", default);
        var client = await @operator.AddClientAsync(new ClientRegistration(partner, "C", false, false, ["read:dealer"], [], [], []), default);
        var dealer = await @operator.AddDealerAsync("D", null, null, null, null, default);
        var user = (await @operator.AddUserAsync(dealer, "u@example.com", "admin", "x", default))!.Value;

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var past = now - 60_000;
        var future = now + 3_600_000;
        var longAgo = now - 2 * 86_400_000L;
        foreach (var (key, expires) in new[] { ("old", past), ("live", future) })
        {
            await services.ExecuteAsync(
                "INSERT INTO idempotency_records (client_id, idempotency_key, request_method, request_path, request_hash, state, created_at, expires_at) VALUES ('c', @key, 'POST', '/', 'h', 'completed', 0, @expires)",
                new { key, expires });
            await services.ExecuteAsync("INSERT INTO client_assertion_jtis (client_pk, jti, expires_at) VALUES (@client, @key, @expires)", new { client = client.Id, key, expires });
            await services.ExecuteAsync("INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (@key, @expires)", new { key, expires });
            await services.ExecuteAsync(
                "INSERT INTO refresh_tokens (token_hash, family_id, client_pk, user_id, scope, audience, created_at, expires_at) VALUES (@key, 'f', @client, @user, 's', 'a', 0, @expires)",
                new { key, client = client.Id, user, expires });
        }

        // Codes stay a day past their expiry (late replays are still recognised).
        foreach (var (key, expires) in new[] { ("ancient", longAgo), ("recent", past) })
        {
            await services.ExecuteAsync(
                "INSERT INTO authorization_codes (code_hash, client_pk, user_id, redirect_uri, scope, audience, created_at, expires_at) VALUES (@key, @client, @user, 'https://x/', 's', 'a', 0, @expires)",
                new { key, client = client.Id, user, expires });
        }

        var removed = await services.GetRequiredService<Housekeeping>().RunOnceAsync();

        Assert.Equal(5, removed);
        Assert.Equal(["live"], await services.QueryAsync<string>("SELECT idempotency_key FROM idempotency_records"));
        Assert.Equal(["live"], await services.QueryAsync<string>("SELECT jti FROM client_assertion_jtis"));
        Assert.Equal(["live"], await services.QueryAsync<string>("SELECT jti FROM revoked_access_tokens"));
        Assert.Equal(["live"], await services.QueryAsync<string>("SELECT token_hash FROM refresh_tokens"));
        Assert.Equal(["recent"], await services.QueryAsync<string>("SELECT code_hash FROM authorization_codes"));
    }
}
