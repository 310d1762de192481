using Chekt.PartnerApi.Data;
using Dapper;
using Microsoft.IdentityModel.Tokens;

namespace Chekt.PartnerApi.Auth;

/// <summary>A registered OAuth client with everything the authorization server checks.</summary>
public sealed record OAuthClient(
    long Id,
    string ClientId,
    long PartnerId,
    string PartnerName,
    string Name,
    bool IsPublic,
    bool RequirePkce,
    IReadOnlySet<string> Scopes,
    IReadOnlyList<string> RedirectUris,
    IReadOnlyList<string> LogoutUrls,
    IReadOnlyList<string> SecretHashes,
    IReadOnlyDictionary<string, JsonWebKey> Keys)
{
    public bool HasKeys => Keys.Count > 0;
}

/// <summary>Reads clients from the database (no caching: secrets and keys take effect at once).</summary>
public sealed class OAuthClientStore(Db db)
{
    public async Task<OAuthClient?> FindAsync(string clientId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(clientId) || clientId.Length > 128)
        {
            return null;
        }

        await using var connection = await db.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<ClientRow>(new CommandDefinition(
            """
            SELECT c.id AS Id, c.client_id AS ClientId, c.partner_id AS PartnerId, p.name AS PartnerName, c.name AS Name,
                   c.is_public AS IsPublic, c.require_pkce AS RequirePkce
            FROM oauth_clients c JOIN partners p ON p.id = c.partner_id
            WHERE c.client_id = @clientId
            """,
            new { clientId }, cancellationToken: cancellationToken));
        if (row is null)
        {
            return null;
        }

        var id = row.Id;
        var scopes = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT scope FROM oauth_client_scopes WHERE client_pk = @id", new { id }, cancellationToken: cancellationToken));
        var redirects = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT uri FROM oauth_client_redirect_uris WHERE client_pk = @id ORDER BY uri", new { id }, cancellationToken: cancellationToken));
        var logouts = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT url FROM oauth_client_logout_urls WHERE client_pk = @id ORDER BY url", new { id }, cancellationToken: cancellationToken));
        var secrets = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT secret_hash FROM oauth_client_secrets WHERE client_pk = @id AND revoked_at IS NULL", new { id }, cancellationToken: cancellationToken));
        var keys = await connection.QueryAsync<(string Kid, string Jwk)>(new CommandDefinition(
            "SELECT kid, public_key_jwk FROM oauth_client_keys WHERE client_pk = @id", new { id }, cancellationToken: cancellationToken));

        return new OAuthClient(
            row.Id, row.ClientId, row.PartnerId, row.PartnerName, row.Name, row.IsPublic == 1, row.RequirePkce == 1,
            scopes.ToHashSet(StringComparer.Ordinal), [.. redirects], [.. logouts], [.. secrets],
            keys.ToDictionary(k => k.Kid, k => new JsonWebKey(k.Jwk), StringComparer.Ordinal));
    }

    private sealed class ClientRow
    {
        public long Id { get; init; }

        public string ClientId { get; init; } = "";

        public long PartnerId { get; init; }

        public string PartnerName { get; init; } = "";

        public string Name { get; init; } = "";

        public long IsPublic { get; init; }

        public long RequirePkce { get; init; }
    }
}
