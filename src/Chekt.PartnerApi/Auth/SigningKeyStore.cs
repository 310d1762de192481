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

    // Note: keys are re-read at most this often, so a key added by `keys rotate` (another process)
    // signs within a minute; an unknown kid forces an early re-read, throttled to one per few seconds.
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan UnknownKidRefreshInterval = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _refreshLock = new(1, 1);
    private volatile KeySet? _cached;

    /// <summary>The keys as last read: the one that signs, and every one still accepted (published in the JWKS).</summary>
    public sealed record KeySet(SigningKey? Current, IReadOnlyDictionary<string, SigningKey> Published, DateTimeOffset ReadAt);

    public sealed record SigningKey(string Kid, RsaSecurityKey Key, string PublicJwk);

    public async Task<SigningKey> GetCurrentAsync(CancellationToken cancellationToken)
    {
        var keys = await GetKeySetAsync(forceRefresh: false, cancellationToken);
        if (keys.Current is null)
        {
            await EnsureSigningKeyAsync(cancellationToken);
            keys = await GetKeySetAsync(forceRefresh: true, cancellationToken);
        }

        return keys.Current ?? throw new InvalidOperationException("No signing key is available.");
    }

    /// <summary>The published key with this kid, re-reading the database once (throttled) when it is not known yet.</summary>
    public async Task<SigningKey?> FindPublishedAsync(string kid, CancellationToken cancellationToken)
    {
        var keys = await GetKeySetAsync(forceRefresh: false, cancellationToken);
        if (!keys.Published.TryGetValue(kid, out var key) && clock.GetUtcNow() - keys.ReadAt > UnknownKidRefreshInterval)
        {
            keys = await GetKeySetAsync(forceRefresh: true, cancellationToken);
            keys.Published.TryGetValue(kid, out key);
        }

        return key;
    }

    public async Task<KeySet> GetKeySetAsync(bool forceRefresh, CancellationToken cancellationToken)
    {
        var cached = _cached;
        var now = clock.GetUtcNow();
        if (!forceRefresh && cached is not null && now - cached.ReadAt < CacheLifetime)
        {
            return cached;
        }

        await _refreshLock.WaitAsync(cancellationToken);
        try
        {
            if (_cached is { } fresh && fresh != cached && now - fresh.ReadAt < CacheLifetime)
            {
                return fresh;
            }

            await using var connection = await db.OpenAsync(cancellationToken);
            var rows = await connection.QueryAsync<KeyRow>(new CommandDefinition(
                """
                SELECT kid AS Kid, private_key_pem AS PrivateKeyPem, public_jwk AS PublicJwk, retired_at AS RetiredAt
                FROM signing_keys WHERE expires_at IS NULL OR expires_at > @now ORDER BY id
                """,
                new { now = now.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
            var published = new Dictionary<string, SigningKey>(StringComparer.Ordinal);
            SigningKey? current = null;
            foreach (var row in rows)
            {
                var rsa = RSA.Create();
                rsa.ImportFromPem(row.PrivateKeyPem);
                var key = new SigningKey(row.Kid, new RsaSecurityKey(rsa) { KeyId = row.Kid }, row.PublicJwk);
                published[row.Kid] = key;
                if (row.RetiredAt is null)
                {
                    current = key; // the newest key that is not retired signs
                }
            }

            var set = new KeySet(current, published, now);
            _cached = set;
            return set;
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    private sealed class KeyRow
    {
        public string Kid { get; init; } = "";

        public string PrivateKeyPem { get; init; } = "";

        public string PublicJwk { get; init; } = "";

        public long? RetiredAt { get; init; }
    }

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
        _cached = null;
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
