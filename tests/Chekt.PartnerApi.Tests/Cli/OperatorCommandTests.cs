using System.Security.Cryptography;
using System.Text.Json;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;
using static Chekt.PartnerApi.Tests.Cli.CliTestHost;

namespace Chekt.PartnerApi.Tests.Cli;

/// <summary>Spec §9: every operator command, its output shape and its bad input.</summary>
public sealed class OperatorCommandTests
{
    private const string Password = "correct horse battery staple";

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task HelpOptionsPrintUsageAndRunNothing(string option)
    {
        // In-process, so a server started by mistake would not return: the test would time out instead of passing.
        foreach (var (args, expected) in new (string[] Args, string Expected)[]
        {
            ([option], "Commands:"),
            (["serve", option], "Commands:"),
            (["partners", "add", option], "Usage: Chekt.PartnerApi partners add --name NAME"),
            (["users", "add", "--dealer", "1", option], "Usage: Chekt.PartnerApi users add --dealer ID"),
        })
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            var exitCode = await Chekt.PartnerApi.Cli.CliApp.RunAsync(args, new Chekt.PartnerApi.Cli.CliConsole(new StringReader(""), output, error, true))
                .WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal((0, ""), (exitCode, error.ToString()));
            Assert.Contains(expected, output.ToString(), StringComparison.Ordinal);
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task PartnersAddPrintsTheNewPartnerId(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var first = await RunAsync(database, ["partners", "add", "--name", "Acme Alarms"]);
        var second = await RunAsync(database, ["partners", "add", "--name=Beta Monitoring"]);

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(["partner_id"], first.Json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Number, first.Json.GetProperty("partner_id").ValueKind);
        Assert.True(second.Json.GetProperty("partner_id").GetInt64() > first.Json.GetProperty("partner_id").GetInt64());
        await using var services = TestServices.For(database);
        Assert.Equal("Acme Alarms", await services.ScalarAsync<string>("SELECT name FROM partners WHERE id = @id", new { id = first.Json.GetProperty("partner_id").GetInt64() }));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task PartnersAddRefusesAMissingOrBlankName(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        AssertUsageError(await RunAsync(database, ["partners", "add"]), "--name is required");
        AssertUsageError(await RunAsync(database, ["partners", "add", "--name", "   "]), "--name must not be empty");
        AssertUsageError(await RunAsync(database, ["partners", "add", "--name", new string('n', 256)]), "at most 255");
        AssertUsageError(await RunAsync(database, ["partners", "add", "--name"]), "--name needs a value");
        AssertUsageError(await RunAsync(database, ["partners", "add", "--name", "a", "--name", "b"]), "only once");
        AssertUsageError(await RunAsync(database, ["partners", "add", "--name", "a", "--colour", "red"]), "no option --colour");
        AssertUsageError(await RunAsync(database, ["partners", "add", "--name", "a", "stray"]), "stray");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ClientsAddCreatesAConfidentialClientWhoseSecretIsStoredOnlyAsAHash(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var partnerId = await AddPartnerAsync(database);
        var run = await RunAsync(database,
        [
            "clients", "add", "--partner", partnerId, "--name", "Web app",
            "--redirect-uri", "https://app.example.com/callback", "--redirect-uri", "http://localhost:3000/cb",
            "--logout-url", "https://app.example.com/", "--scopes", "read:dealer openid offline_access",
        ]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["client_id", "client_secret"], run.Json.EnumerateObject().Select(p => p.Name));
        var clientId = run.Json.GetProperty("client_id").GetString()!;
        var secret = run.Json.GetProperty("client_secret").GetString()!;
        Assert.True(Base64UrlEncoder.DecodeBytes(secret).Length >= 32, "the secret carries at least 256 bits");

        await using var services = TestServices.For(database);
        var stored = await services.ScalarAsync<string>(
            "SELECT s.secret_hash FROM oauth_client_secrets s JOIN oauth_clients c ON c.id = s.client_pk WHERE c.client_id = @clientId", new { clientId });
        Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
        Assert.True(Secrets.Verify(secret, stored));
        Assert.False(Secrets.Verify(secret + "x", stored));
        Assert.Equal(["offline_access", "openid", "read:dealer"], await services.QueryAsync<string>(
            "SELECT scope FROM oauth_client_scopes s JOIN oauth_clients c ON c.id = s.client_pk WHERE c.client_id = @clientId ORDER BY scope", new { clientId }));
        Assert.Equal(["http://localhost:3000/cb", "https://app.example.com/callback"], await services.QueryAsync<string>(
            "SELECT uri FROM oauth_client_redirect_uris r JOIN oauth_clients c ON c.id = r.client_pk WHERE c.client_id = @clientId ORDER BY uri", new { clientId }));
        Assert.Equal(["https://app.example.com/"], await services.QueryAsync<string>(
            "SELECT url FROM oauth_client_logout_urls l JOIN oauth_clients c ON c.id = l.client_pk WHERE c.client_id = @clientId", new { clientId }));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ClientsAddDefaultsToEveryScope(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var run = await RunAsync(database, ["clients", "add", "--partner", await AddPartnerAsync(database), "--name", "M2M"]);
        await using var services = TestServices.For(database);
        var scopes = await services.QueryAsync<string>(
            "SELECT scope FROM oauth_client_scopes s JOIN oauth_clients c ON c.id = s.client_pk WHERE c.client_id = @id", new { id = run.Json.GetProperty("client_id").GetString() });
        Assert.Equal(Scopes.All.Order(), scopes.Order());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task APublicClientHasNoSecretAndRequiresPkce(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var run = await RunAsync(database, ["clients", "add", "--partner", await AddPartnerAsync(database), "--name", "SPA", "--public", "--redirect-uri", "https://spa.example.com/cb"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(JsonValueKind.Null, run.Json.GetProperty("client_secret").ValueKind);
        await using var services = TestServices.For(database);
        var id = run.Json.GetProperty("client_id").GetString();
        Assert.Equal(1L, await services.ScalarAsync<long>("SELECT require_pkce FROM oauth_clients WHERE client_id = @id", new { id }));
        Assert.Equal(0L, await services.ScalarAsync<long>("SELECT COUNT(*) FROM oauth_client_secrets s JOIN oauth_clients c ON c.id = s.client_pk WHERE c.client_id = @id", new { id }));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AKeyClientFromAJwksFileHasNoSecretAndKeepsOnlyPublicKeyParts(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        using var rsa = RSA.Create(2048);
        var jwks = Path.GetTempFileName();
        var parameters = rsa.ExportParameters(true);
        await File.WriteAllTextAsync(jwks, JsonSerializer.Serialize(new
        {
            keys = new[]
            {
                new { kty = "RSA", kid = "key-1", n = Base64UrlEncoder.Encode(parameters.Modulus), e = Base64UrlEncoder.Encode(parameters.Exponent), d = Base64UrlEncoder.Encode(parameters.D) },
            },
        }));

        var run = await RunAsync(database, ["clients", "add", "--partner", await AddPartnerAsync(database), "--name", "Key client", "--jwks-file", jwks]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(JsonValueKind.Null, run.Json.GetProperty("client_secret").ValueKind);
        await using var services = TestServices.For(database);
        var jwk = JsonDocument.Parse(await services.ScalarAsync<string>(
            "SELECT k.public_key_jwk FROM oauth_client_keys k JOIN oauth_clients c ON c.id = k.client_pk WHERE c.client_id = @id AND k.kid = 'key-1'",
            new { id = run.Json.GetProperty("client_id").GetString() })).RootElement;
        Assert.Equal(Base64UrlEncoder.Encode(parameters.Modulus), jwk.GetProperty("n").GetString());
        Assert.False(jwk.TryGetProperty("d", out _), "the private exponent must not be stored");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AKeyClientFromAPemFileIsRegisteredUnderTheGivenKid(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        using var rsa = RSA.Create(2048);
        var pem = Path.GetTempFileName();
        await File.WriteAllTextAsync(pem, rsa.ExportSubjectPublicKeyInfoPem());

        var run = await RunAsync(database, ["clients", "add", "--partner", await AddPartnerAsync(database), "--name", "PEM client", "--public-key-pem", pem, "--kid", "pem-1"]);

        Assert.Equal(0, run.ExitCode);
        await using var services = TestServices.For(database);
        Assert.Equal("pem-1", await services.ScalarAsync<string>("SELECT kid FROM oauth_client_keys"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ClientsAddRefusesBadInput(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var partner = await AddPartnerAsync(database);
        var garbage = Path.GetTempFileName();
        await File.WriteAllTextAsync(garbage, "not a key");
        using var small = RSA.Create(1024);
        var smallPem = Path.GetTempFileName();
        await File.WriteAllTextAsync(smallPem, small.ExportSubjectPublicKeyInfoPem());

        AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", "999999", "--name", "x"]), "Partner 999999 does not exist");
        AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", "abc", "--name", "x"]), "positive integer");
        AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", "-3", "--name", "x"]), "--partner");
        AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", partner]), "--name is required");
        foreach (var uri in new[] { "/relative/cb", "ftp://example.com/cb", "https://example.com/cb#fragment", "not a url", "javascript:alert(1)" })
        {
            AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", partner, "--name", "x", "--redirect-uri", uri]), "not an absolute http(s) URL");
        }

        AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", partner, "--name", "x", "--logout-url", "example.com"]), "--logout-url");
        AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", partner, "--name", "x", "--scopes", "read:dealer write:everything"]), "Unknown scope 'write:everything'");
        AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", partner, "--name", "x", "--public"]), "needs at least one --redirect-uri");
        AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", partner, "--name", "x", "--jwks-file", "/no/such/file.json"]), "Cannot read key file");
        AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", partner, "--name", "x", "--public-key-pem", "/no/such/key.pem", "--kid", "k"]), "Cannot read key file");
        AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", partner, "--name", "x", "--public-key-pem", garbage, "--kid", "k"]), "no RSA public key");
        AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", partner, "--name", "x", "--public-key-pem", smallPem, "--kid", "k"]), "shorter than 2048 bits");
        AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", partner, "--name", "x", "--jwks-file", garbage]), "not valid JSON");
        AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", partner, "--name", "x", "--public-key-pem", garbage]), "--public-key-pem needs --kid");
        AssertUsageError(await RunAsync(database, ["clients", "add", "--partner", partner, "--name", "x", "--kid", "k"]), "--kid is used only with --public-key-pem");

        await using var services = TestServices.For(database);
        Assert.Equal(0L, await services.ScalarAsync<long>("SELECT COUNT(*) FROM oauth_clients"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task DealersAddStoresTheCompanyDetails(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var run = await RunAsync(database,
        [
            "dealers", "add", "--company-name", "CHeKT Security Solutions Inc.", "--address1", "456 Market Street",
            "--address2", "Suite 801, 8th Floor", "--email", "support@chektdealer.com", "--phone", "+1-555-123-4567",
        ]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["dealer_id"], run.Json.EnumerateObject().Select(p => p.Name));
        await using var services = TestServices.For(database);
        var row = (await services.QueryAsync<(string Name, string Address2, string Phone)>(
            "SELECT company_name, company_address2, company_phone_number FROM dealers WHERE id = @id", new { id = run.Json.GetProperty("dealer_id").GetInt64() })).Single();
        Assert.Equal(("CHeKT Security Solutions Inc.", "Suite 801, 8th Floor", "+1-555-123-4567"), row);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task DealersAddRefusesBadInput(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        AssertUsageError(await RunAsync(database, ["dealers", "add"]), "--company-name is required");
        AssertUsageError(await RunAsync(database, ["dealers", "add", "--company-name", ""]), "must not be empty");
        foreach (var email in new[] { "no-at-sign", "a@b", "a@@b.com", "a b@c.com", ".a@b.com" })
        {
            AssertUsageError(await RunAsync(database, ["dealers", "add", "--company-name", "X", "--email", email]), "not a valid email");
        }

        AssertUsageError(await RunAsync(database, ["dealers", "add", "--company-name", "X", "--phone", "call me"]), "not a valid phone");
        await using var services = TestServices.For(database);
        Assert.Equal(0L, await services.ScalarAsync<long>("SELECT COUNT(*) FROM dealers"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task UsersAddReadsThePasswordFromStdinAndStoresASlowHash(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var dealer = await AddDealerAsync(database);
        var run = await RunAsync(database, ["users", "add", "--dealer", dealer, "--email", "Admin@Dealer.example.com", "--role", "admin"], Password + "\n");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["user_id"], run.Json.EnumerateObject().Select(p => p.Name));
        await using var services = TestServices.For(database);
        var hash = await services.ScalarAsync<string>("SELECT password_hash FROM dealer_users WHERE id = @id", new { id = run.Json.GetProperty("user_id").GetInt64() });
        Assert.DoesNotContain(Password, hash, StringComparison.Ordinal);
        Assert.StartsWith("pbkdf2-sha512$", hash, StringComparison.Ordinal);
        Assert.True(PasswordHasher.Verify(Password, hash), "the trailing newline is not part of the password");
        Assert.False(PasswordHasher.Verify(Password + "\n", hash));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task UsersAddRefusesBadInput(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var dealer = await AddDealerAsync(database);
        Assert.Equal(0, (await RunAsync(database, ["users", "add", "--dealer", dealer, "--email", "taken@example.com", "--role", "member"], Password)).ExitCode);

        AssertUsageError(await RunAsync(database, ["users", "add", "--dealer", "424242", "--email", "a@example.com", "--role", "admin"], Password), "Dealer 424242 does not exist");
        AssertUsageError(await RunAsync(database, ["users", "add", "--dealer", dealer, "--email", "not-an-email", "--role", "admin"], Password), "not a valid email");
        AssertUsageError(await RunAsync(database, ["users", "add", "--dealer", dealer, "--email", "TAKEN@example.com", "--role", "admin"], Password), "already exists");
        AssertUsageError(await RunAsync(database, ["users", "add", "--dealer", dealer, "--email", "b@example.com", "--role", "admin"], "short-pass1\n"), "at least 12 characters");
        AssertUsageError(await RunAsync(database, ["users", "add", "--dealer", dealer, "--email", "b@example.com", "--role", "admin"], ""), "No password on standard input");
        AssertUsageError(await RunAsync(database, ["users", "add", "--dealer", dealer, "--email", "b@example.com", "--role", "owner"], Password), "--role must be admin or member");
        AssertUsageError(await RunAsync(database, ["users", "add", "--dealer", dealer, "--email", "b@example.com"], Password), "--role is required");

        await using var services = TestServices.For(database);
        Assert.Equal(1L, await services.ScalarAsync<long>("SELECT COUNT(*) FROM dealer_users"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task KeysRotateAddsANewSigningKeyAndRetiresTheOldOneAfterTokensExpire(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var first = await RunAsync(database, ["keys", "rotate"]);
        var second = await RunAsync(database, ["keys", "rotate"]);

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(["kid"], first.Json.EnumerateObject().Select(p => p.Name));
        Assert.NotEqual(first.Json.GetProperty("kid").GetString(), second.Json.GetProperty("kid").GetString());

        await using var services = TestServices.For(database);
        var keys = await services.QueryAsync<(string Kid, long? RetiredAt, long? ExpiresAt, string PrivateKey)>(
            "SELECT kid, retired_at, expires_at, private_key_pem FROM signing_keys ORDER BY id");
        Assert.Equal(2, keys.Count);
        Assert.NotNull(keys[0].RetiredAt);
        Assert.Equal(keys[0].RetiredAt + (3600 + 30) * 1000L, keys[0].ExpiresAt);
        Assert.Null(keys[1].RetiredAt);
        Assert.Null(keys[1].ExpiresAt);
        Assert.Equal(second.Json.GetProperty("kid").GetString(), keys[1].Kid);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task MigratePrintsWhatItApplied(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var first = await RunAsync(database, ["migrate"]);
        var second = await RunAsync(database, ["migrate"]);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(["0001_initial"], first.Json.GetProperty("applied").EnumerateArray().Select(e => e.GetString()).Take(1));
        Assert.Empty(second.Json.GetProperty("applied").EnumerateArray());
        var described = first.Json.GetProperty("database").GetString()!;
        Assert.StartsWith(provider == DatabaseProvider.Sqlite ? "Sqlite (" : "Postgres (", described, StringComparison.Ordinal);
        if (provider == DatabaseProvider.Sqlite)
        {
            // A process of its own, where nothing opened SQLite before the session pool: it runs without
            // per-connection mutexes and without the global memory-statistics mutex (see SqliteSessionPool).
            Assert.EndsWith(", multi-thread, no memory statistics)", described, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AnUnknownCommandIsAUsageError()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        AssertUsageError(await RunAsync(database, ["launch", "rockets"]), "unknown command 'launch rockets'");
        AssertUsageError(await RunAsync(database, ["partners", "remove"]), "unknown command");
    }

    [Fact]
    public async Task AnUnreachableDatabaseIsAOneLineFailure()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await Chekt.PartnerApi.Cli.CliApp.RunAsync(
            ["partners", "add", "--name", "x", "--Database:Provider=Postgres", "--ConnectionStrings:Partner=Host=127.0.0.1;Port=1;Username=x;Timeout=2"],
            new Chekt.PartnerApi.Cli.CliConsole(new StringReader(""), output, error, true));
        Assert.Equal(1, exitCode);
        Assert.Equal("", output.ToString());
        Assert.StartsWith("error: database:", Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task TheRealExecutableAnswersJsonAndExitCodes(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var ok = await RunProcessAsync(database, ["partners", "add", "--name", "Process partner"]);
        Assert.Equal(0, ok.ExitCode);
        Assert.True(ok.Json.GetProperty("partner_id").GetInt64() > 0);
        Assert.Equal("", ok.Stderr);

        var dealer = await RunProcessAsync(database, ["dealers", "add", "--company-name", "Process dealer"]);
        var user = await RunProcessAsync(database, ["users", "add", "--dealer", dealer.Json.GetProperty("dealer_id").ToString(), "--email", "p@example.com", "--role", "admin"], Password + "\n");
        Assert.Equal(0, user.ExitCode);

        var bad = await RunProcessAsync(database, ["users", "add", "--dealer", "1", "--email", "q@example.com", "--role", "admin"], "");
        AssertUsageError(bad, "No password on standard input");
    }

    private static async Task<string> AddPartnerAsync(TestDatabase database) =>
        (await RunAsync(database, ["partners", "add", "--name", "Partner"])).Json.GetProperty("partner_id").ToString();

    private static async Task<string> AddDealerAsync(TestDatabase database) =>
        (await RunAsync(database, ["dealers", "add", "--company-name", "Dealer"])).Json.GetProperty("dealer_id").ToString();
}
