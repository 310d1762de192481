using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chekt.PartnerApi.Auth;

/// <summary>Who is calling the API, as established from a validated access token.</summary>
public sealed record PartnerCaller(
    string ClientId,
    long PartnerId,
    DealerUser? User,
    IReadOnlySet<string> Scopes,
    PartnerClaim? Narrowing)
{
    public bool IsUser => User is not null;
}

/// <summary>
/// Validates the bearer tokens of <c>/partner/v1</c> (spec §2.1): RS256 only, <c>typ</c> at+jwt,
/// issuer, audience, signature by a published key, lifetime with at most 30 s of skew, not revoked,
/// and a client (and user) that still exist.
/// </summary>
public sealed class AccessTokenValidator(
    SigningKeyStore keys, OAuthClientStore clients, DealerUserStore users, RevokedAccessTokens revoked, TimeProvider clock, IOptions<AuthOptions> options)
{
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };
    private static readonly TimeSpan LookupCacheLifetime = TimeSpan.FromSeconds(30);

    // Note: a token that passed every check is remembered (keyed by its exact text, so nothing about
    // it can differ) until it expires, but at most as long as the client and user lookups are cached;
    // revocation is still checked on every use.
    private const int MaxRememberedTokens = 10_000;
    private readonly ConcurrentDictionary<string, RememberedToken> _validated = new(StringComparer.Ordinal);

    // Looks remembered tokens up by the header's own characters: no copy of a 1-2 KB token per request.
    private ConcurrentDictionary<string, RememberedToken>.AlternateLookup<ReadOnlySpan<char>> Remembered =>
        _validated.GetAlternateLookup<ReadOnlySpan<char>>();

    private sealed record RememberedToken(PartnerCaller Caller, string Jti, DateTimeOffset ValidUntil);

    private readonly ConcurrentDictionary<string, (long PartnerId, DateTimeOffset ReadAt)> _clientPartners = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, (DealerUser? User, DateTimeOffset ReadAt)> _users = new();

    /// <summary>The caller, or the reason (for the log, never for the client) the token is refused.</summary>
    /// <remarks>A ValueTask: a remembered token, nearly every request's, is answered without allocating a task.</remarks>
    public async ValueTask<(PartnerCaller? Caller, string? Reason)> ValidateAsync(ReadOnlyMemory<char> token, CancellationToken cancellationToken)
    {
        if (Remembered.TryGetValue(token.Span, out var remembered) && clock.GetUtcNow() < remembered.ValidUntil)
        {
            return await revoked.IsRevokedAsync(remembered.Jti, cancellationToken)
                ? (null, "revoked")
                : (remembered.Caller, null);
        }

        var text = token.ToString();
        var (caller, reason, expires, jti) = await ValidateFullyAsync(text, cancellationToken);
        if (caller is not null)
        {
            if (_validated.Count >= MaxRememberedTokens)
            {
                _validated.Clear();
            }

            var limit = clock.GetUtcNow() + LookupCacheLifetime;
            _validated[text] = new RememberedToken(caller, jti!, expires + AuthOptions.ClockSkew < limit ? expires + AuthOptions.ClockSkew : limit);
        }

        return (caller, reason);
    }

    private async Task<(PartnerCaller? Caller, string? Reason, DateTimeOffset Expires, string? Jti)> ValidateFullyAsync(string token, CancellationToken cancellationToken)
    {
        JsonWebToken jwt;
        try
        {
            jwt = Handler.ReadJsonWebToken(token);
        }
        catch (Exception exception) when (exception is ArgumentException or SecurityTokenMalformedException)
        {
            return (null, "malformed token", default, null);
        }

        // Note: the algorithm is pinned before any key is looked up: "none", HMAC (including
        // HMAC keyed with our public key) and other algorithms never reach signature validation.
        if (jwt.Alg != SecurityAlgorithms.RsaSha256 || string.IsNullOrEmpty(jwt.Kid))
        {
            return (null, "algorithm or kid not acceptable", default, null);
        }

        var key = await keys.FindPublishedAsync(jwt.Kid, cancellationToken);
        if (key is null)
        {
            return (null, "unknown kid", default, null);
        }

        var settings = options.Value;
        var now = clock.GetUtcNow();
        var result = await Handler.ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            ValidTypes = ["at+jwt", "application/at+jwt"],
            IssuerSigningKey = key.Key,
            TryAllIssuerSigningKeys = false,
            ValidIssuer = settings.Issuer,
            ValidAudience = settings.Audience,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = AuthOptions.ClockSkew,
            LifetimeValidator = (notBefore, expires, _, _) =>
                expires is { } exp && now - AuthOptions.ClockSkew < exp && (notBefore is not { } nbf || nbf <= now + AuthOptions.ClockSkew),
        });
        if (!result.IsValid)
        {
            return (null, result.Exception?.GetType().Name ?? "invalid token", default, null);
        }

        if (!jwt.TryGetPayloadValue<string>("azp", out var clientId) || string.IsNullOrEmpty(jwt.Subject) || string.IsNullOrEmpty(jwt.Id))
        {
            return (null, "missing azp, sub or jti", default, null);
        }

        if (await revoked.IsRevokedAsync(jwt.Id, cancellationToken))
        {
            return (null, "revoked", default, null);
        }

        var partnerId = await GetPartnerIdAsync(clientId, now, cancellationToken);
        if (partnerId is null)
        {
            return (null, "client no longer exists", default, null);
        }

        DealerUser? user = null;
        if (jwt.Subject != $"{clientId}@clients")
        {
            if (!long.TryParse(jwt.Subject, NumberStyles.None, CultureInfo.InvariantCulture, out var userId)
                || (user = await GetUserAsync(userId, now, cancellationToken)) is null)
            {
                return (null, "user no longer exists", default, null);
            }
        }

        var scopes = jwt.TryGetPayloadValue<string>("scope", out var scope)
            ? scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal)
            : [];

        PartnerClaim? narrowing = null;
        if (jwt.TryGetPayloadValue<JsonElement>(settings.PartnerClaimName, out var claim))
        {
            narrowing = PartnerClaim.FromElement(claim);
            if (narrowing is null)
            {
                return (null, "malformed partner claim", default, null);
            }
        }

        return (new PartnerCaller(clientId, partnerId.Value, user, scopes, narrowing), null, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero), jwt.Id);
    }

    private async Task<long?> GetPartnerIdAsync(string clientId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_clientPartners.TryGetValue(clientId, out var cached) && now - cached.ReadAt < LookupCacheLifetime)
        {
            return cached.PartnerId;
        }

        var client = await clients.FindAsync(clientId, cancellationToken);
        if (client is null)
        {
            _clientPartners.TryRemove(clientId, out _);
            return null;
        }

        _clientPartners[clientId] = (client.PartnerId, now);
        return client.PartnerId;
    }

    private async Task<DealerUser?> GetUserAsync(long userId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_users.TryGetValue(userId, out var cached) && now - cached.ReadAt < LookupCacheLifetime)
        {
            return cached.User;
        }

        var user = await users.FindAsync(userId, cancellationToken);
        _users[userId] = (user, now);
        return user;
    }
}
