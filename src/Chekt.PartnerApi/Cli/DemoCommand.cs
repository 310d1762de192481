using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Data;
using Dapper;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Chekt.PartnerApi.Cli;

/// <summary>
/// <c>demo</c>: starts the server, seeds a demo partner with an M2M and a web client, a dealer
/// connected to that partner and its admin user, prints their credentials (fresh secrets and
/// password on every run) and a curl walk-through, then keeps serving.
/// </summary>
public static class DemoCommand
{
    public const string PartnerName = "Demo Partner";
    public const string M2MClientName = "Demo M2M client";
    public const string WebClientName = "Demo web client";
    public const string DealerName = "CHeKT Security Solutions Inc.";
    public const string AdminEmail = "admin@demo-dealer.example.com";
    public const string ExternalDealerId = "adc-67890";
    public const string WebRedirectUri = "http://localhost:3000/callback";

    public static async Task<int> RunAsync(CliArguments args, CliConsole console, CancellationToken cancellationToken)
    {
        var app = PartnerServer.Build([.. args.ConfigurationArgs]);
        // Note: unless an issuer is configured, the sandbox's tokens and discovery documents name the address it serves
        // on, so that a client following the discovery document, or signing private_key_jwt assertions for the issuer,
        // reaches it. The options are first read when the server starts, after this.
        var issuerKey = $"{AuthOptions.SectionName}:{nameof(AuthOptions.Issuer)}";
        if (string.IsNullOrEmpty(app.Configuration[issuerKey]) && IssuerFor(app.Configuration["urls"]) is { } issuer)
        {
            app.Configuration[issuerKey] = issuer;
        }

        await app.StartAsync(cancellationToken);

        var seed = await SeedAsync(app.Services, cancellationToken);
        var baseUrl = BaseUrl(app.Services.GetRequiredService<IServer>());
        var credentials = new JsonObject
        {
            ["base_url"] = baseUrl,
            ["partner_id"] = seed.PartnerId,
            ["dealer_id"] = seed.DealerId,
            ["external_dealer_id"] = ExternalDealerId,
            ["m2m_client"] = new JsonObject { ["client_id"] = seed.M2M.ClientId, ["client_secret"] = seed.M2MSecret },
            ["web_client"] = new JsonObject
            {
                ["client_id"] = seed.Web.ClientId, ["client_secret"] = seed.WebSecret, ["redirect_uri"] = WebRedirectUri,
            },
            ["dealer_admin"] = new JsonObject { ["email"] = AdminEmail, ["password"] = seed.AdminPassword },
        };

        await console.Out.WriteLineAsync(credentials.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        await console.Out.WriteLineAsync();
        await console.Out.WriteLineAsync(WalkThrough(baseUrl, seed));
        await console.Out.FlushAsync(cancellationToken);

        await app.WaitForShutdownAsync(cancellationToken);
        return CliApp.Success;
    }

    internal sealed record Seed(long PartnerId, long DealerId, RegisteredClient M2M, string M2MSecret, RegisteredClient Web, string WebSecret, string AdminPassword);

    internal static async Task<Seed> SeedAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<Db>();
        var @operator = services.GetRequiredService<Operator>();
        var clock = services.GetRequiredService<TimeProvider>();
        var iterations = services.GetRequiredService<IOptions<AuthOptions>>().Value.PasswordHashIterations;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();

        await using var connection = await db.OpenAsync(cancellationToken);
        var partnerId = await connection.ExecuteScalarAsync<long?>(
            "SELECT id FROM partners WHERE name = @PartnerName ORDER BY id LIMIT 1", new { PartnerName })
            ?? await @operator.AddPartnerAsync(PartnerName, cancellationToken);

        var (m2m, m2mSecret) = await ClientWithFreshSecretAsync(
            connection, @operator, new ClientRegistration(partnerId, M2MClientName, false, false, Scopes.Api, [], [], []), cancellationToken);
        var (web, webSecret) = await ClientWithFreshSecretAsync(
            connection, @operator,
            new ClientRegistration(partnerId, WebClientName, false, false, [.. Scopes.Api, .. Scopes.User], [WebRedirectUri], ["http://localhost:3000/"], []),
            cancellationToken);

        var dealerId = await connection.ExecuteScalarAsync<long?>(
            "SELECT id FROM dealers WHERE company_name = @DealerName ORDER BY id LIMIT 1", new { DealerName })
            ?? await @operator.AddDealerAsync(DealerName, "456 Market Street", "Suite 801, 8th Floor", "support@chektdealer.com", "+1-555-123-4567", cancellationToken);

        // A fresh password on every run; the lockout state is cleared with it.
        var password = RandomNumberGenerator.GetString("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 16);
        var hash = PasswordHasher.Hash(password, iterations);
        var updated = await connection.ExecuteAsync(
            "UPDATE dealer_users SET password_hash = @hash, dealer_id = @dealerId, role = 'admin', failed_login_count = 0, locked_until = NULL WHERE email_normalized = @email",
            new { hash, dealerId, email = Operator.NormalizeEmail(AdminEmail) });
        if (updated == 0)
        {
            await @operator.AddUserAsync(dealerId, AdminEmail, "admin", hash, cancellationToken);
        }

        // The demo dealer is already connected to the demo partner, so client-credentials calls work at once.
        var connected = await connection.ExecuteAsync(
            "UPDATE dealer_connections SET external_dealer_id = @ExternalDealerId, disconnected_at = NULL WHERE partner_id = @partnerId AND dealer_id = @dealerId",
            new { ExternalDealerId, partnerId, dealerId });
        if (connected == 0)
        {
            await connection.ExecuteAsync(
                """
                INSERT INTO dealer_connections (partner_id, dealer_id, external_dealer_id, company_name, connected_at)
                VALUES (@partnerId, @dealerId, @ExternalDealerId, @DealerName, @now)
                """,
                new { partnerId, dealerId, ExternalDealerId, DealerName, now });
        }

        return new Seed(partnerId, dealerId, m2m, m2mSecret, web, webSecret, password);
    }

    private static async Task<(RegisteredClient Client, string Secret)> ClientWithFreshSecretAsync(
        System.Data.Common.DbConnection connection, Operator @operator, ClientRegistration registration, CancellationToken cancellationToken)
    {
        var existing = await connection.QueryFirstOrDefaultAsync<(long Id, string ClientId)?>(
            "SELECT id, client_id FROM oauth_clients WHERE partner_id = @PartnerId AND name = @Name ORDER BY id LIMIT 1",
            new { registration.PartnerId, registration.Name });
        if (existing is { } found)
        {
            var secret = await @operator.ReplaceClientSecretAsync(found.Id, cancellationToken);
            return (new RegisteredClient(found.Id, found.ClientId, secret), secret);
        }

        var created = await @operator.AddClientAsync(registration, cancellationToken);
        return (created, created.ClientSecret!);
    }

    /// <summary>The issuer for the first plain-HTTP listening address (else the first), when it names a host and a port.</summary>
    internal static string? IssuerFor(string? urls)
    {
        var first = FirstAddress((urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        // Port 0 is chosen by the system when the server binds: not known yet.
        return first is not null && Uri.TryCreate(first, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Port > 0
            ? uri.GetLeftPart(UriPartial.Authority) + "/"
            : null;
    }

    private static string BaseUrl(IServer server) =>
        (FirstAddress(server.Features.Get<IServerAddressesFeature>()?.Addresses ?? []) ?? "http://localhost:5000").TrimEnd('/');

    /// <summary>The first plain-HTTP listening address (else the first), with a wildcard host written as localhost.</summary>
    private static string? FirstAddress(IEnumerable<string> addresses) =>
        addresses.OrderBy(address => address.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? 1 : 0).FirstOrDefault()?
            .Replace("://[::]", "://localhost", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal)
            .Replace("://+", "://localhost", StringComparison.Ordinal)
            .Replace("://*", "://localhost", StringComparison.Ordinal);

    private static string WalkThrough(string baseUrl, Seed seed) => $$"""
        Walk-through (paste into a shell):

          BASE={{baseUrl}}
          DEALER={{seed.DealerId}}

          # 1. A client-credentials access token for the M2M client
          TOKEN=$(curl -s -u '{{seed.M2M.ClientId}}:{{seed.M2MSecret}}' -d grant_type=client_credentials "$BASE/oauth/token" \
            | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

          # 2. The dealer, as the partner sees it
          curl -s "$BASE/partner/v1/dealers/$DEALER" -H "Authorization: Bearer $TOKEN" -H "x-partner-trace-id: $(uuidgen 2>/dev/null || echo demo-1)"

          # 3. Create a site, then read the sites back
          curl -s -X POST "$BASE/partner/v1/dealers/$DEALER/sites" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
            -d '{"external_site_id":"site-1","name":"Main Street Store","timezone":"America/New_York"}'
          curl -s "$BASE/partner/v1/dealers/$DEALER/sites" -H "Authorization: Bearer $TOKEN"

          # 4. Add a contact to site SITE_ID (from step 3) and list the contacts
          SITE_ID=1
          curl -s -X POST "$BASE/partner/v1/dealers/$DEALER/sites/$SITE_ID/contacts" -H "Authorization: Bearer $TOKEN" \
            -H "Content-Type: application/json" \
            -d '{"external_contact_id":"1234","first_name":"John","last_name":"Doe","phone_number":"1234567890","email":"john.doe@example.com"}'
          curl -s "$BASE/partner/v1/dealers/$DEALER/sites/$SITE_ID/contacts" -H "Authorization: Bearer $TOKEN"

          # 5. A monitoring station, and cameras at the site (devices are created in bulk)
          curl -s -X POST "$BASE/partner/v1/dealers/$DEALER/monitoring-stations" -H "Authorization: Bearer $TOKEN" \
            -H "Content-Type: application/json" -d '{"external_monitoring_station_id":"ms-1","name":"Central Station"}'
          curl -s -X POST "$BASE/partner/v1/dealers/$DEALER/sites/$SITE_ID/devices" -H "Authorization: Bearer $TOKEN" \
            -H "Content-Type: application/json" -H "Idempotency-Key: $(date +%s)" \
            -d '[{"external_device_id":"cam-1","device_type":"camera","zone_number":"001"}]'

          # 6. A dealer user's token (needed to connect or disconnect a dealer): open this in a browser,
          #    sign in as {{AdminEmail}}, allow, and copy the code from the address bar
          #    of the redirect ({{WebRedirectUri}}?code=...).
          open "$BASE/authorize?response_type=code&client_id={{seed.Web.ClientId}}&redirect_uri={{Uri.EscapeDataString(WebRedirectUri)}}&scope=openid%20offline_access%20read:dealer&state=xyz"
          curl -s -d grant_type=authorization_code -d code=CODE -d redirect_uri={{WebRedirectUri}} \
            -d client_id={{seed.Web.ClientId}} -d client_secret={{seed.WebSecret}} "$BASE/oauth/token"

        Health: $BASE/healthz  $BASE/readyz
        """;
}
