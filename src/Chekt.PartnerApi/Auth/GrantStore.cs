using Chekt.PartnerApi.Data;
using Dapper;

namespace Chekt.PartnerApi.Auth;

/// <summary>A stored authorization code or refresh token: what it grants.</summary>
public sealed class StoredGrant
{
    public long Id { get; init; }

    public long ClientPk { get; init; }

    public long UserId { get; init; }

    public string Scope { get; init; } = "";

    public string Audience { get; init; } = "";

    public string? PartnerClaim { get; init; }

    public string RedirectUri { get; init; } = "";

    public string? CodeChallenge { get; init; }

    public string? Nonce { get; init; }

    public string FamilyId { get; init; } = "";

    public long CreatedAt { get; init; }

    public long ExpiresAt { get; init; }

    public long? ConsumedAt { get; init; }

    public long? RevokedAt { get; init; }

    public string? IssuedTokenFamily { get; init; }

    public string? IssuedAccessJti { get; init; }
}

/// <summary>
/// Authorization codes and refresh tokens. Both are opaque random values stored only as hashes;
/// redeeming is a single conditional UPDATE, so two concurrent redemptions cannot both succeed.
/// </summary>
public sealed class GrantStore(Db db, RevokedAccessTokens revokedAccessTokens, TimeProvider clock)
{
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan RefreshTokenLifetime = TimeSpan.FromDays(30);

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<string> CreateCodeAsync(long clientPk, long userId, string redirectUri, string scope, string audience,
        string? codeChallenge, string? nonce, CancellationToken cancellationToken)
    {
        var code = Secrets.NewOpaqueValue();
        await using var connection = await db.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO authorization_codes (code_hash, client_pk, user_id, redirect_uri, scope, audience, code_challenge, code_challenge_method, nonce, created_at, expires_at)
            VALUES (@hash, @clientPk, @userId, @redirectUri, @scope, @audience, @codeChallenge, @method, @nonce, @now, @expires)
            """,
            new
            {
                hash = Secrets.Hash(code), clientPk, userId, redirectUri, scope, audience, codeChallenge,
                method = codeChallenge is null ? null : "S256", nonce, now = Now, expires = Now + (long)CodeLifetime.TotalMilliseconds,
            },
            cancellationToken: cancellationToken));
        return code;
    }

    public async Task<StoredGrant?> FindCodeAsync(string code, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<StoredGrant>(new CommandDefinition(
            """
            SELECT id AS Id, client_pk AS ClientPk, user_id AS UserId, scope AS Scope, audience AS Audience, partner_claim AS PartnerClaim,
                   redirect_uri AS RedirectUri, code_challenge AS CodeChallenge, nonce AS Nonce, created_at AS CreatedAt,
                   expires_at AS ExpiresAt, consumed_at AS ConsumedAt, issued_token_family AS IssuedTokenFamily, issued_access_jti AS IssuedAccessJti
            FROM authorization_codes WHERE code_hash = @hash
            """,
            new { hash = Secrets.Hash(code) }, cancellationToken: cancellationToken));
    }

    /// <summary>Marks the code used; false when another request used it first.</summary>
    public async Task<bool> ConsumeCodeAsync(long codeId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE authorization_codes SET consumed_at = @now WHERE id = @codeId AND consumed_at IS NULL",
            new { codeId, now = Now }, cancellationToken: cancellationToken)) == 1;
    }

    public async Task RecordIssuedByCodeAsync(long codeId, string accessJti, string? refreshFamily, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE authorization_codes SET issued_access_jti = @accessJti, issued_token_family = @refreshFamily WHERE id = @codeId",
            new { codeId, accessJti, refreshFamily }, cancellationToken: cancellationToken));
    }

    /// <summary>RFC 6749 §4.1.2: a code used twice revokes the tokens issued from its first use.</summary>
    public async Task RevokeIssuedByCodeAsync(StoredGrant code, long accessTokenLifetimeSeconds, CancellationToken cancellationToken)
    {
        if (code.IssuedTokenFamily is not null)
        {
            await RevokeFamilyAsync(code.IssuedTokenFamily, cancellationToken);
        }

        if (code.IssuedAccessJti is not null)
        {
            await RevokeAccessTokenAsync(code.IssuedAccessJti, (code.ConsumedAt ?? Now) + accessTokenLifetimeSeconds * 1000 + 60_000, cancellationToken);
        }
    }

    public Task RevokeAccessTokenAsync(string jti, long expiresAt, CancellationToken cancellationToken) =>
        revokedAccessTokens.RevokeAsync(jti, expiresAt, cancellationToken);

    /// <summary>A new refresh token of the family; <paramref name="issuedWith"/>, the access token issued with it, is revoked with the family.</summary>
    public async Task<string> CreateRefreshTokenAsync(string? familyId, long clientPk, long userId, string scope, string audience, string? partnerClaim,
        AccessToken issuedWith, CancellationToken cancellationToken)
    {
        var token = Secrets.NewOpaqueValue();
        await using var connection = await db.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO refresh_tokens (token_hash, family_id, client_pk, user_id, scope, audience, partner_claim, created_at, expires_at,
                                        issued_access_jti, issued_access_expires_at)
            VALUES (@hash, @familyId, @clientPk, @userId, @scope, @audience, @partnerClaim, @now, @expires, @accessJti, @accessExpires)
            """,
            new
            {
                hash = Secrets.Hash(token), familyId = familyId ?? Guid.NewGuid().ToString("N"), clientPk, userId, scope, audience, partnerClaim,
                now = Now, expires = Now + (long)RefreshTokenLifetime.TotalMilliseconds,
                accessJti = issuedWith.Jti, accessExpires = issuedWith.ExpiresAt.ToUnixTimeMilliseconds(),
            },
            cancellationToken: cancellationToken));
        return token;
    }

    public async Task<StoredGrant?> FindRefreshTokenAsync(string token, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<StoredGrant>(new CommandDefinition(
            """
            SELECT id AS Id, client_pk AS ClientPk, user_id AS UserId, scope AS Scope, audience AS Audience, partner_claim AS PartnerClaim,
                   family_id AS FamilyId, created_at AS CreatedAt, expires_at AS ExpiresAt, used_at AS ConsumedAt, revoked_at AS RevokedAt
            FROM refresh_tokens WHERE token_hash = @hash
            """,
            new { hash = Secrets.Hash(token) }, cancellationToken: cancellationToken));
    }

    /// <summary>Marks a refresh token rotated; false when it was already used (reuse) or revoked.</summary>
    public async Task<bool> RotateRefreshTokenAsync(long tokenId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE refresh_tokens SET used_at = @now WHERE id = @tokenId AND used_at IS NULL AND revoked_at IS NULL",
            new { tokenId, now = Now }, cancellationToken: cancellationToken)) == 1;
    }

    /// <summary>
    /// Revokes every refresh token of the family and every access token the family issued that has not expired yet:
    /// a leaked refresh token must not leave its thief an hour of API access.
    /// </summary>
    public async Task RevokeFamilyAsync(string familyId, CancellationToken cancellationToken)
    {
        IEnumerable<(string Jti, long ExpiresAt)> issued;
        await using (var connection = await db.OpenAsync(cancellationToken))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE refresh_tokens SET revoked_at = @now WHERE family_id = @familyId AND revoked_at IS NULL",
                new { familyId, now = Now }, cancellationToken: cancellationToken));
            issued = await connection.QueryAsync<(string, long)>(new CommandDefinition(
                """
                SELECT issued_access_jti, issued_access_expires_at FROM refresh_tokens
                WHERE family_id = @familyId AND issued_access_jti IS NOT NULL AND issued_access_expires_at > @now
                """,
                new { familyId, now = Now }, cancellationToken: cancellationToken));
        }

        foreach (var (jti, expiresAt) in issued)
        {
            // Note: kept a minute past the token's expiry, beyond the validator's clock skew.
            await RevokeAccessTokenAsync(jti, expiresAt + 60_000, cancellationToken);
        }
    }
}
