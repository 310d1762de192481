using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Cli;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chekt.PartnerApi.Tests.Auth;

/// <summary>
/// Issue: a client written for the platform's Auth0-based token service works unchanged when its
/// domain points at this server over HTTPS. The real executable serves HTTPS with a certificate
/// given through Kestrel's standard settings, as docs/authentication.md describes.
/// </summary>
public sealed class HttpsCompatibilityTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task AnAuth0StyleClientWorksOverHttpsAgainstTheRealExecutable(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var directory = Directory.CreateTempSubdirectory("chekt-https-").FullName;

        // The partner's key and a registered client, through the operator CLI.
        using var clientKey = RSA.Create(2048);
        var pem = Path.Combine(directory, "client.pem");
        await File.WriteAllTextAsync(pem, clientKey.ExportSubjectPublicKeyInfoPem());
        var partner = (await CliTestHost.RunAsync(database, ["partners", "add", "--name", "Auth0 partner"])).Json.GetProperty("partner_id").ToString();
        var clientId = (await CliTestHost.RunAsync(database, ["clients", "add", "--partner", partner, "--name", "m2m", "--public-key-pem", pem, "--kid", "k1"]))
            .Json.GetProperty("client_id").GetString()!;
        var dealer = (await CliTestHost.RunAsync(database, ["dealers", "add", "--company-name", "Dealer"])).Json.GetProperty("dealer_id").GetInt64();
        await using (var services = TestServices.For(database))
        {
            await services.ExecuteAsync(
                "INSERT INTO dealer_connections (partner_id, dealer_id, external_dealer_id, company_name, connected_at) VALUES (@p, @d, 'ext', 'x', 0)",
                new { p = long.Parse(partner, System.Globalization.CultureInfo.InvariantCulture), d = dealer });
        }

        // A certificate for localhost, given to Kestrel as PEM files.
        using var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        await File.WriteAllTextAsync(Path.Combine(directory, "cert.pem"), certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(directory, "key.pem"), serverKey.ExportPkcs8PrivateKeyPem());

        var port = ServerProcess.FreePort();
        var host = $"https://localhost:{port}/";
        await using var server = await ServerProcess.StartAsync(
        [
            "serve", "--urls", $"https://localhost:{port}", $"--Auth:Issuer={host}",
            $"--Kestrel:Certificates:Default:Path={Path.Combine(directory, "cert.pem")}",
            $"--Kestrel:Certificates:Default:KeyPath={Path.Combine(directory, "key.pem")}",
            .. database.CliArgs,
        ]);

        using var handler = new HttpClientHandler
        {
            // Trust exactly our test certificate.
            ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint,
        };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(host) };

        var assertion = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = clientId,
            Audience = host,
            Expires = DateTime.UtcNow.AddMinutes(1),
            Claims = new Dictionary<string, object> { ["sub"] = clientId, ["jti"] = Guid.NewGuid().ToString() },
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(clientKey) { KeyId = "k1" }, SecurityAlgorithms.RsaSha256),
        });
        var tokenResponse = await http.PostAsync("oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ["client_assertion"] = assertion,
            ["audience"] = "https://api.chekt.com/partner",
            ["https://api.chekt.com/claims/partner"] = $"{{\"dealer_id\":\"{dealer}\"}}",
        }));
        var body = JsonDocument.Parse(await tokenResponse.Content.ReadAsStringAsync()).RootElement;
        Assert.True(tokenResponse.IsSuccessStatusCode, body.ToString());
        var accessToken = body.GetProperty("access_token").GetString()!;

        // Verification as an Auth0 SDK does it: keys from https://<host>/.well-known/jwks.json.
        var jwks = new JsonWebKeySet(await http.GetStringAsync(".well-known/jwks.json"));
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(accessToken, new TokenValidationParameters
        {
            ValidIssuer = host,
            ValidAudience = "https://api.chekt.com/partner",
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
        });
        Assert.True(validation.IsValid, validation.Exception?.Message);
        Assert.Equal(clientId, validation.Claims["azp"]);

        using var call = Seed.Authorized(HttpMethod.Get, $"partner/v1/dealers/{dealer}", accessToken);
        var dealerResponse = await http.SendAsync(call);
        Assert.Equal(200, (int)dealerResponse.StatusCode);
    }
}
