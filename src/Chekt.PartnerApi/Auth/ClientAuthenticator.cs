using System.Data.Common;
using System.Net.Http.Headers;
using System.Text;
using Chekt.PartnerApi.Data;
using Dapper;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chekt.PartnerApi.Auth;

/// <summary>The client a token or revocation request comes from, or why it was refused.</summary>
public readonly record struct ClientAuthentication(OAuthClient? Client, OAuthError? Error);

/// <summary>
/// Client authentication at the token and revocation endpoints (RFC 6749 §2.3, RFC 7523 §2.2):
/// <c>client_secret_basic</c>, <c>client_secret_post</c>, <c>private_key_jwt</c>, or none for public clients.
/// </summary>
public sealed class ClientAuthenticator(OAuthClientStore clients, Db db, TimeProvider clock, IOptions<AuthOptions> options)
{
    public const string JwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private static readonly TimeSpan MaxAssertionLifetime = TimeSpan.FromMinutes(5);
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public async Task<ClientAuthentication> AuthenticateAsync(HttpRequest request, OAuthForm form, CancellationToken cancellationToken)
    {
        var basic = ReadBasic(request, out var basicError);
        if (basicError is not null)
        {
            return new(null, basicError);
        }

        var hasSecret = form.Has("client_secret");
        var hasAssertion = form.Has("client_assertion") || form.Has("client_assertion_type");
        // Note: RFC 6749 §2.3: a client must not use more than one authentication method in a request.
        if ((basic is not null ? 1 : 0) + (hasSecret ? 1 : 0) + (hasAssertion ? 1 : 0) > 1)
        {
            return new(null, OAuthError.InvalidRequest("Use exactly one client authentication method."));
        }

        var formClientId = form["client_id"];
        if (basic is { } credentials)
        {
            if (formClientId is not null && formClientId != credentials.ClientId)
            {
                return new(null, OAuthError.InvalidRequest("client_id does not match the client of the Authorization header."));
            }

            return await BySecretAsync(credentials.ClientId, credentials.Secret, basic: true, cancellationToken);
        }

        if (hasAssertion)
        {
            return await ByAssertionAsync(form, formClientId, cancellationToken);
        }

        if (formClientId is null)
        {
            return new(null, OAuthError.InvalidClient("Client authentication is required."));
        }

        if (hasSecret)
        {
            return await BySecretAsync(formClientId, form["client_secret"]!, basic: false, cancellationToken);
        }

        // No credentials: only a public client may do that.
        var client = await clients.FindAsync(formClientId, cancellationToken);
        return client is { IsPublic: true }
            ? new(client, null)
            : new(null, OAuthError.InvalidClient("Client authentication failed."));
    }

    private async Task<ClientAuthentication> BySecretAsync(string clientId, string secret, bool basic, CancellationToken cancellationToken)
    {
        var client = await clients.FindAsync(clientId, cancellationToken);
        var matched = false;
        foreach (var hash in client?.SecretHashes ?? [])
        {
            matched |= Secrets.Verify(secret, hash);
        }

        // Note: one message for an unknown client and a wrong secret, so that client ids cannot be probed.
        return client is not null && matched && !client.IsPublic
            ? new(client, null)
            : new(null, OAuthError.InvalidClient("Client authentication failed.", basic));
    }

    private async Task<ClientAuthentication> ByAssertionAsync(OAuthForm form, string? formClientId, CancellationToken cancellationToken)
    {
        if (form["client_assertion_type"] != JwtBearerAssertionType)
        {
            return new(null, OAuthError.InvalidRequest($"client_assertion_type must be {JwtBearerAssertionType}."));
        }

        var assertion = form["client_assertion"];
        if (string.IsNullOrEmpty(assertion))
        {
            return new(null, OAuthError.InvalidRequest("client_assertion is missing."));
        }

        JsonWebToken jwt;
        try
        {
            jwt = Handler.ReadJsonWebToken(assertion);
        }
        catch (Exception exception) when (exception is ArgumentException or SecurityTokenMalformedException)
        {
            return new(null, OAuthError.InvalidClient("client_assertion is not a well-formed JWT."));
        }

        var fail = new ClientAuthentication(null, OAuthError.InvalidClient("Client assertion rejected."));
        // RFC 7523 §3: iss and sub are both the client id.
        var clientId = jwt.Issuer;
        if (string.IsNullOrEmpty(clientId) || jwt.Subject != clientId || (formClientId is not null && formClientId != clientId))
        {
            return fail;
        }

        var client = await clients.FindAsync(clientId, cancellationToken);
        if (client is null || !client.HasKeys)
        {
            return fail;
        }

        var key = !string.IsNullOrEmpty(jwt.Kid)
            ? client.Keys.GetValueOrDefault(jwt.Kid)
            : client.Keys.Count == 1 ? client.Keys.Values.Single() : null;
        if (key is null)
        {
            return fail;
        }

        var issuer = options.Value.Issuer;
        var validation = new TokenValidationParameters
        {
            // Note: the algorithm is pinned; "none" and HMAC assertions are refused.
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            IssuerSigningKey = key,
            // Note: the key is already chosen above (by kid, or the client's only key); "all" is that one key. Without it, the
            // library matches a token without a kid to no key at all.
            TryAllIssuerSigningKeys = true,
            ValidIssuer = clientId,
            // Note: RFC 7523 §3 — the audience is the authorization server: its issuer (with or
            // without the trailing slash, as Auth0 clients send it) or its token endpoint URL.
            ValidAudiences = [issuer, issuer.TrimEnd('/'), TokenEndpointUrl(issuer)],
            ValidateLifetime = false, // checked below against the server clock, with the 5-minute cap
            RequireExpirationTime = true,
            RequireSignedTokens = true,
        };
        var result = await Handler.ValidateTokenAsync(jwt, validation);
        if (!result.IsValid)
        {
            return fail;
        }

        var now = clock.GetUtcNow();
        var expires = jwt.TryGetPayloadValue<long>("exp", out var exp) ? DateTimeOffset.FromUnixTimeSeconds(exp) : (DateTimeOffset?)null;
        var issuedAt = jwt.TryGetPayloadValue<long>("iat", out var iat) ? DateTimeOffset.FromUnixTimeSeconds(iat) : (DateTimeOffset?)null;
        if (expires is null || issuedAt is null
            || expires - issuedAt > MaxAssertionLifetime
            || expires < now - AuthOptions.ClockSkew
            || issuedAt > now + AuthOptions.ClockSkew
            || (jwt.TryGetPayloadValue<long>("nbf", out var nbf) && DateTimeOffset.FromUnixTimeSeconds(nbf) > now + AuthOptions.ClockSkew))
        {
            return fail;
        }

        if (string.IsNullOrEmpty(jwt.Id) || jwt.Id.Length > 255)
        {
            return fail;
        }

        // Note: each jti is accepted once; it is remembered until the assertion could no longer be valid.
        if (!await RememberJtiAsync(client.Id, jwt.Id, expires.Value + AuthOptions.ClockSkew, cancellationToken))
        {
            return new(null, OAuthError.InvalidClient("Client assertion already used (jti replay)."));
        }

        return new(client, null);
    }

    private async Task<bool> RememberJtiAsync(long clientPk, string jti, DateTimeOffset keepUntil, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await db.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM client_assertion_jtis WHERE expires_at < @now", new { now }, cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO client_assertion_jtis (client_pk, jti, expires_at) VALUES (@clientPk, @jti, @expires)",
                new { clientPk, jti, expires = keepUntil.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
            return true;
        }
        catch (DbException exception) when (DbErrors.IsUniqueViolation(exception))
        {
            return false;
        }
    }

    public static string TokenEndpointUrl(string issuer) => issuer.TrimEnd('/') + "/oauth/token";

    /// <summary>RFC 6749 §2.3.1: <c>Basic base64(urlencode(id) ":" urlencode(secret))</c>.</summary>
    private static (string ClientId, string Secret)? ReadBasic(HttpRequest request, out OAuthError? error)
    {
        error = null;
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header)
            || !header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter ?? ""));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                return (Uri.UnescapeDataString(decoded[..colon].Replace('+', ' ')), Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' ')));
            }
        }
        catch (FormatException)
        {
        }

        error = OAuthError.InvalidClient("Malformed Basic credentials.", basic: true);
        return null;
    }
}
