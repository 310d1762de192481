using Chekt.PartnerApi.Data;
using Dapper;

namespace Chekt.PartnerApi.Auth;

/// <summary>
/// Access tokens revoked before they expire (a replayed authorization code revokes what it issued;
/// RFC 7009 revocation of an access token). Note: other instances see a revocation within a few
/// seconds; the set stays small because entries leave it when their token expires.
/// </summary>
public sealed class RevokedAccessTokens(Db db, TimeProvider clock)
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(5);
    private volatile Snapshot? _cached;

    private sealed record Snapshot(IReadOnlySet<string> Jtis, DateTimeOffset ReadAt);

    public async Task RevokeAsync(string jti, long expiresAtMs, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (@jti, @expiresAtMs) ON CONFLICT (jti) DO NOTHING",
            new { jti, expiresAtMs }, cancellationToken: cancellationToken));
        _cached = null;
    }

    public async Task<bool> IsRevokedAsync(string jti, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var cached = _cached;
        if (cached is null || now - cached.ReadAt >= CacheLifetime)
        {
            await using var connection = await db.OpenAsync(cancellationToken);
            var jtis = await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT jti FROM revoked_access_tokens WHERE expires_at > @now", new { now = now.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
            cached = new Snapshot(jtis.ToHashSet(StringComparer.Ordinal), now);
            _cached = cached;
        }

        return cached.Jtis.Contains(jti);
    }
}
