using System.Data.Common;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Data;
using Dapper;

namespace Chekt.PartnerApi.Cli;

/// <summary>A client to register: what <c>clients add</c> and <c>demo</c> store.</summary>
public sealed record ClientRegistration(
    long PartnerId,
    string Name,
    bool IsPublic,
    bool RequirePkce,
    IReadOnlyList<string> Scopes,
    IReadOnlyList<string> RedirectUris,
    IReadOnlyList<string> LogoutUrls,
    IReadOnlyList<ClientKey> Keys);

public sealed record RegisteredClient(long Id, string ClientId, string? ClientSecret);

/// <summary>The operator's writes: partners, clients, dealers, users and connections.</summary>
public sealed class Operator(Db db, TimeProvider clock)
{
    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<long> AddPartnerAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "INSERT INTO partners (name, created_at) VALUES (@name, @now) RETURNING id",
            new { name, now = Now }, cancellationToken: cancellationToken));
    }

    public async Task<bool> PartnerExistsAsync(long partnerId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT id FROM partners WHERE id = @partnerId", new { partnerId }, cancellationToken: cancellationToken)) is not null;
    }

    public async Task<bool> DealerExistsAsync(long dealerId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT id FROM dealers WHERE id = @dealerId", new { dealerId }, cancellationToken: cancellationToken)) is not null;
    }

    /// <summary>Stores the client with its scopes, URLs and keys; a confidential client without keys gets a new secret.</summary>
    public async Task<RegisteredClient> AddClientAsync(ClientRegistration registration, CancellationToken cancellationToken)
    {
        var clientId = Secrets.NewClientId();
        var secret = registration.IsPublic || registration.Keys.Count > 0 ? null : Secrets.NewOpaqueValue();

        await using var connection = await db.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO oauth_clients (client_id, partner_id, name, is_public, require_pkce, created_at)
            VALUES (@clientId, @PartnerId, @Name, @isPublic, @requirePkce, @now) RETURNING id
            """,
            new
            {
                clientId, registration.PartnerId, registration.Name,
                isPublic = registration.IsPublic ? 1 : 0, requirePkce = registration.RequirePkce ? 1 : 0, now = Now,
            },
            transaction, cancellationToken: cancellationToken));

        await InsertEachAsync(connection, transaction, "INSERT INTO oauth_client_scopes (client_pk, scope) VALUES (@id, @value)", id, registration.Scopes, cancellationToken);
        await InsertEachAsync(connection, transaction, "INSERT INTO oauth_client_redirect_uris (client_pk, uri) VALUES (@id, @value)", id, registration.RedirectUris, cancellationToken);
        await InsertEachAsync(connection, transaction, "INSERT INTO oauth_client_logout_urls (client_pk, url) VALUES (@id, @value)", id, registration.LogoutUrls, cancellationToken);
        foreach (var key in registration.Keys)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO oauth_client_keys (client_pk, kid, public_key_jwk, created_at) VALUES (@id, @Kid, @PublicJwk, @now)",
                new { id, key.Kid, key.PublicJwk, now = Now }, transaction, cancellationToken: cancellationToken));
        }

        if (secret is not null)
        {
            await AddSecretAsync(connection, transaction, id, secret, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new RegisteredClient(id, clientId, secret);
    }

    /// <summary>Issues a new secret for a client and revokes the ones it had (used by <c>demo</c> on every start).</summary>
    public async Task<string> ReplaceClientSecretAsync(long clientPk, CancellationToken cancellationToken)
    {
        var secret = Secrets.NewOpaqueValue();
        await using var connection = await db.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE oauth_client_secrets SET revoked_at = @now WHERE client_pk = @clientPk AND revoked_at IS NULL",
            new { clientPk, now = Now }, transaction, cancellationToken: cancellationToken));
        await AddSecretAsync(connection, transaction, clientPk, secret, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return secret;
    }

    public async Task<long> AddDealerAsync(string companyName, string? address1, string? address2, string? email, string? phone, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO dealers (company_name, company_address1, company_address2, company_email, company_phone_number, created_at, updated_at)
            VALUES (@companyName, @address1, @address2, @email, @phone, @now, @now) RETURNING id
            """,
            new { companyName, address1, address2, email, phone, now = Now }, cancellationToken: cancellationToken));
    }

    /// <summary>Adds a dealer user; null when the email is already taken (emails are unique, case-insensitively).</summary>
    public async Task<long?> AddUserAsync(long dealerId, string email, string role, string passwordHash, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        try
        {
            return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                INSERT INTO dealer_users (dealer_id, email, email_normalized, password_hash, role, created_at)
                VALUES (@dealerId, @email, @normalized, @passwordHash, @role, @now) RETURNING id
                """,
                new { dealerId, email, normalized = NormalizeEmail(email), passwordHash, role, now = Now },
                cancellationToken: cancellationToken));
        }
        catch (DbException exception) when (DbErrors.IsUniqueViolation(exception))
        {
            return null;
        }
    }

    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();

    private static async Task InsertEachAsync(DbConnection connection, DbTransaction transaction, string sql, long id, IEnumerable<string> values, CancellationToken cancellationToken)
    {
        foreach (var value in values.Distinct(StringComparer.Ordinal))
        {
            await connection.ExecuteAsync(new CommandDefinition(sql, new { id, value }, transaction, cancellationToken: cancellationToken));
        }
    }

    private async Task AddSecretAsync(DbConnection connection, DbTransaction transaction, long clientPk, string secret, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO oauth_client_secrets (client_pk, secret_hash, created_at) VALUES (@clientPk, @hash, @now)",
            new { clientPk, hash = Secrets.Hash(secret), now = Now }, transaction, cancellationToken: cancellationToken));
}
