using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Chekt.PartnerApi.Data;
using Dapper;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Chekt.PartnerApi.Auth;

/// <summary>
/// The server's token signing keys, kept in the database so that every instance signs and
/// validates with the same set.
/// </summary>
public sealed class SigningKeyStore(Db db, TimeProvider clock, IOptions<AuthOptions> options)
{
    public const string Algorithm = SecurityAlgorithms.RsaSha256;
    private const int KeySizeBits = 2048;

    /// <summary>
    /// Adds a new signing key and retires the current one. The retired key stops signing now but
    /// stays published and accepted until every token it signed has expired.
    /// </summary>
    public async Task<string> RotateAsync(CancellationToken cancellationToken = default)
    {
        using var rsa = RSA.Create(KeySizeBits);
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        var n = Base64UrlEncoder.Encode(parameters.Modulus);
        var e = Base64UrlEncoder.Encode(parameters.Exponent);
        var kid = Thumbprint(n, e);
        var publicJwk = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["kty"] = "RSA", ["use"] = "sig", ["alg"] = Algorithm, ["kid"] = kid, ["n"] = n, ["e"] = e,
        });

        var now = clock.GetUtcNow();
        var retiredKeysExpire = now.AddSeconds(options.Value.AccessTokenLifetimeSeconds) + AuthOptions.ClockSkew;

        await using var connection = await db.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE signing_keys SET retired_at = @now, expires_at = @expires WHERE retired_at IS NULL",
            new { now = now.ToUnixTimeMilliseconds(), expires = retiredKeysExpire.ToUnixTimeMilliseconds() },
            transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO signing_keys (kid, algorithm, private_key_pem, public_jwk, created_at)
            VALUES (@kid, @algorithm, @privateKey, @publicJwk, @now)
            """,
            new { kid, algorithm = Algorithm, privateKey = rsa.ExportPkcs8PrivateKeyPem(), publicJwk, now = now.ToUnixTimeMilliseconds() },
            transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return kid;
    }

    /// <summary>Creates the first key when the database has none that can sign.</summary>
    public async Task EnsureSigningKeyAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        var current = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM signing_keys WHERE retired_at IS NULL", cancellationToken: cancellationToken));
        if (current == 0)
        {
            await RotateAsync(cancellationToken);
        }
    }

    /// <summary>RFC 7638 JWK thumbprint, used as the key id.</summary>
    private static string Thumbprint(string n, string e)
    {
        var canonical = $"{{\"e\":\"{e}\",\"kty\":\"RSA\",\"n\":\"{n}\"}}";
        return Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }
}
