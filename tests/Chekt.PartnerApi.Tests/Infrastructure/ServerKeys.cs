using System.Security.Cryptography;
using Chekt.PartnerApi.Data;
using Dapper;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chekt.PartnerApi.Tests.Infrastructure;

/// <summary>Forges tokens with the server's own signing key, to test every other validation rule in isolation.</summary>
public static class ServerKeys
{
    public static async Task<(string Kid, RSA Key)> CurrentAsync(TestApp app)
    {
        await using var connection = await app.Services.GetRequiredService<Db>().OpenAsync();
        var row = await connection.QueryFirstAsync<(string Kid, string Pem)>(
            "SELECT kid, private_key_pem FROM signing_keys WHERE retired_at IS NULL ORDER BY id DESC");
        var rsa = RSA.Create();
        rsa.ImportFromPem(row.Pem);
        return (row.Kid, rsa);
    }

    /// <summary>An access token like the server's, with any part overridden.</summary>
    public static string Forge(string kid, RSA key, string subject, string clientId, DateTimeOffset? issuedAt = null, TimeSpan? lifetime = null,
        string issuer = PartnerApiFactory.Issuer, string audience = "https://api.chekt.com/partner", string type = "at+jwt",
        string scope = "read:dealer", IDictionary<string, object>? extra = null)
    {
        var iat = issuedAt ?? DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object> { ["sub"] = subject, ["azp"] = clientId, ["scope"] = scope, ["jti"] = Guid.NewGuid().ToString("N") };
        foreach (var (name, value) in extra ?? new Dictionary<string, object>())
        {
            claims[name] = value;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = iat.UtcDateTime,
            Expires = (iat + (lifetime ?? TimeSpan.FromHours(1))).UtcDateTime,
            TokenType = type,
            Claims = claims,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key) { KeyId = kid }, SecurityAlgorithms.RsaSha256),
        });
    }
}
