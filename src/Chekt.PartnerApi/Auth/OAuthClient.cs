using System.Text.Json;
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

        // Note: the client and its lists in one statement, each list a JSON array: the token endpoint reads a
        // client on every request, and on PostgreSQL six statements were six round trips.
        await using var connection = await db.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<ClientRow>(new CommandDefinition(
            db.IsPostgres ? PostgresFindSql : SqliteFindSql, new { clientId }, cancellationToken: cancellationToken));
        if (row is null)
        {
            return null;
        }

        return new OAuthClient(
            row.Id, row.ClientId, row.PartnerId, row.PartnerName, row.Name, row.IsPublic == 1, row.RequirePkce == 1,
            Strings(row.Scopes).ToHashSet(StringComparer.Ordinal), Strings(row.RedirectUris), Strings(row.LogoutUrls), Strings(row.SecretHashes),
            Keys(row.Keys));
    }

    private const string ClientColumns =
        """
        c.id AS Id, c.client_id AS ClientId, c.partner_id AS PartnerId, p.name AS PartnerName, c.name AS Name,
        c.is_public AS IsPublic, c.require_pkce AS RequirePkce
        """;

    private const string SqliteFindSql =
        $"""
        SELECT {ClientColumns},
               (SELECT json_group_array(scope) FROM oauth_client_scopes WHERE client_pk = c.id) AS Scopes,
               (SELECT json_group_array(uri ORDER BY uri) FROM oauth_client_redirect_uris WHERE client_pk = c.id) AS RedirectUris,
               (SELECT json_group_array(url ORDER BY url) FROM oauth_client_logout_urls WHERE client_pk = c.id) AS LogoutUrls,
               (SELECT json_group_array(secret_hash) FROM oauth_client_secrets WHERE client_pk = c.id AND revoked_at IS NULL) AS SecretHashes,
               (SELECT json_group_array(json_array(kid, public_key_jwk)) FROM oauth_client_keys WHERE client_pk = c.id) AS Keys
        FROM oauth_clients c JOIN partners p ON p.id = c.partner_id
        WHERE c.client_id = @clientId
        """;

    private const string PostgresFindSql =
        $"""
        SELECT {ClientColumns},
               (SELECT json_agg(scope)::text FROM oauth_client_scopes WHERE client_pk = c.id) AS Scopes,
               (SELECT json_agg(uri ORDER BY uri)::text FROM oauth_client_redirect_uris WHERE client_pk = c.id) AS RedirectUris,
               (SELECT json_agg(url ORDER BY url)::text FROM oauth_client_logout_urls WHERE client_pk = c.id) AS LogoutUrls,
               (SELECT json_agg(secret_hash)::text FROM oauth_client_secrets WHERE client_pk = c.id AND revoked_at IS NULL) AS SecretHashes,
               (SELECT json_agg(json_build_array(kid, public_key_jwk))::text FROM oauth_client_keys WHERE client_pk = c.id) AS Keys
        FROM oauth_clients c JOIN partners p ON p.id = c.partner_id
        WHERE c.client_id = @clientId
        """;

    /// <summary>A JSON array of strings; PostgreSQL's <c>json_agg</c> of no rows is NULL.</summary>
    private static string[] Strings(string? json)
    {
        if (json is null)
        {
            return [];
        }

        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(item => item.GetString()!)];
    }

    /// <summary>A JSON array of <c>[kid, jwk]</c> pairs, the JWK as text.</summary>
    private static Dictionary<string, JsonWebKey> Keys(string? json)
    {
        var keys = new Dictionary<string, JsonWebKey>(StringComparer.Ordinal);
        if (json is null)
        {
            return keys;
        }

        using var document = JsonDocument.Parse(json);
        foreach (var pair in document.RootElement.EnumerateArray())
        {
            keys[pair[0].GetString()!] = new JsonWebKey(pair[1].GetString()!);
        }

        return keys;
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

        public string? Scopes { get; init; }

        public string? RedirectUris { get; init; }

        public string? LogoutUrls { get; init; }

        public string? SecretHashes { get; init; }

        public string? Keys { get; init; }
    }
}
