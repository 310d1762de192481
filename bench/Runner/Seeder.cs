using System.Globalization;
using System.Text;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Cli;
using Chekt.PartnerApi.Data;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Chekt.PartnerApi.Bench;

/// <summary>What the scenarios address: the bench client and ids of a dealer, sites and contacts.</summary>
public sealed record SeededData(string ClientId, string ClientSecret, long DealerId, long SiteId, long ContactId, long ListSiteId, long WriteSiteId, long UpdateContactId);

/// <summary>Fills a fresh database with a realistic volume through the server's own migrator and operator code.</summary>
public static class Seeder
{
    private const int Batch = 2000;

    public static async Task<SeededData> SeedAsync(string provider, string connectionString, int dealers, int sitesPerDealer, int contactsPerSite)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider,
            ["ConnectionStrings:Partner"] = connectionString,
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddPartnerCore(configuration);
        await using var provided = services.BuildServiceProvider();
        await provided.GetRequiredService<Migrator>().MigrateAsync();
        await provided.GetRequiredService<SigningKeyStore>().EnsureSigningKeyAsync();

        var @operator = provided.GetRequiredService<Operator>();
        var partnerId = await @operator.AddPartnerAsync("Bench partner", CancellationToken.None);
        var client = await @operator.AddClientAsync(new ClientRegistration(partnerId, "Bench M2M", false, false, Scopes.Api, [], [], []), CancellationToken.None);

        var db = provided.GetRequiredService<Db>();
        await using var connection = await db.OpenAsync();
        const long now = 1_711_542_896_000; // 2024-03-27T12:34:56.000Z, as in the seed

        var sites = dealers * sitesPerDealer;
        var contacts = sites * contactsPerSite;
        await InsertAsync(connection, "INSERT INTO dealers (company_name, company_address1, company_address2, company_email, company_phone_number, created_at, updated_at) VALUES ",
            dealers, i => $"('Dealer {i} Security Inc.', '{i} Market Street', 'Suite {i % 900}', 'support{i}@dealer.example.com', '+1-555-{i % 1000:000}-{i % 10000:0000}', {now}, {now})");
        var firstDealer = await connection.ExecuteScalarAsync<long>("SELECT MIN(id) FROM dealers");
        await InsertAsync(connection, "INSERT INTO dealer_connections (partner_id, dealer_id, external_dealer_id, company_name, connected_at) VALUES ",
            dealers, i => $"({partnerId}, {firstDealer + i}, 'ext-dealer-{i}', 'Dealer {i}', {now})");
        await InsertAsync(connection, "INSERT INTO sites (dealer_id, external_site_id, name, account_number, address1, timezone, created_at, updated_at) VALUES ",
            sites, i => $"({firstDealer + i / sitesPerDealer}, 'site-{i}', 'Site {i}', 'AC{i:000000}', '{i} Main Street', 'America/New_York', {now}, {now})");
        var firstSite = await connection.ExecuteScalarAsync<long>("SELECT MIN(id) FROM sites");
        await InsertAsync(connection, "INSERT INTO contacts (site_id, external_contact_id, first_name, last_name, phone_number, email, created_at, updated_at) VALUES ",
            contacts, i => $"({firstSite + i / contactsPerSite}, 'contact-{i}', 'First{i}', 'Last{i}', '+1 555 {i % 1000:000} {i % 10000:0000}', 'contact{i}@example.com', {now}, {now})");

        // The addressed dealer sits in the middle of the data; its first site gets exactly 10 contacts for the list scenario.
        var dealerId = firstDealer + dealers / 2;
        var siteId = firstSite + (dealers / 2) * sitesPerDealer;
        var contactId = await connection.ExecuteScalarAsync<long>("SELECT MIN(id) FROM contacts WHERE site_id = @siteId", new { siteId });
        var listSiteId = siteId + 1;
        await InsertAsync(connection, "INSERT INTO contacts (site_id, external_contact_id, first_name, last_name, phone_number, email, created_at, updated_at) VALUES ",
            Math.Max(0, 10 - contactsPerSite), i => $"({listSiteId}, 'extra-{i}', 'Extra{i}', 'Contact', '1234567890', 'extra{i}@example.com', {now}, {now})");
        var writeSiteId = await connection.ExecuteScalarAsync<long>(
            $"INSERT INTO sites (dealer_id, external_site_id, name, timezone, created_at, updated_at) VALUES ({dealerId}, 'bench-writes', 'Writes', 'UTC', {now}, {now}) RETURNING id");
        var updateContactId = await connection.ExecuteScalarAsync<long>(
            $"INSERT INTO contacts (site_id, external_contact_id, first_name, last_name, created_at, updated_at) VALUES ({writeSiteId}, 'bench-update', 'Update', 'Me', {now}, {now}) RETURNING id");
        if (db.IsPostgres)
        {
            // Fresh statistics, as autovacuum would eventually give; a plain connection (no auto-prepare) runs the utility command.
            await using var plain = new Npgsql.NpgsqlConnection(connectionString);
            await plain.OpenAsync();
            await using var analyze = new Npgsql.NpgsqlCommand("ANALYZE", plain);
            await analyze.ExecuteNonQueryAsync();
        }

        return new SeededData(client.ClientId, client.ClientSecret!, dealerId, siteId, contactId, listSiteId, writeSiteId, updateContactId);
    }

    private static async Task InsertAsync(System.Data.Common.DbConnection connection, string prefix, int count, Func<int, string> row)
    {
        for (var start = 0; start < count; start += Batch)
        {
            var sql = new StringBuilder(prefix);
            for (var i = start; i < Math.Min(count, start + Batch); i++)
            {
                sql.Append(i == start ? "" : ",").Append(row(i));
            }

            await using var transaction = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync(sql.ToString(), transaction: transaction);
            await transaction.CommitAsync();
        }
    }

    public static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
