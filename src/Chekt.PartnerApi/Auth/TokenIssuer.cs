using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chekt.PartnerApi.Auth;

/// <summary>What an access token is issued for.</summary>
public sealed record TokenGrant(
    OAuthClient Client,
    string Subject,
    string Scope,
    string Audience,
    string? PartnerClaimJson,
    string? GrantType);

public sealed record AccessToken(string Token, string Jti, int ExpiresIn, DateTimeOffset ExpiresAt);

/// <summary>Creates the server's JWTs: RFC 9068 access tokens and OpenID Connect id_tokens, signed RS256.</summary>
public sealed class TokenIssuer(SigningKeyStore keys, TimeProvider clock, IOptions<AuthOptions> options)
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public DateTimeOffset Now => clock.GetUtcNow();

    public async Task<AccessToken> CreateAccessTokenAsync(TokenGrant grant, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var key = await keys.GetCurrentAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var jti = Guid.NewGuid().ToString("N");
        var claims = new Dictionary<string, object>
        {
            ["sub"] = grant.Subject,
            ["azp"] = grant.Client.ClientId,
            ["scope"] = grant.Scope,
            ["jti"] = jti,
        };
        if (grant.GrantType is not null)
        {
            claims["gty"] = grant.GrantType;
        }

        if (grant.PartnerClaimJson is not null)
        {
            claims[settings.PartnerClaimName] = JsonDocument.Parse(grant.PartnerClaimJson).RootElement.Clone();
        }

        var expires = now.AddSeconds(settings.AccessTokenLifetimeSeconds);
        var token = Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = grant.Audience,
            IssuedAt = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims,
            // Note: RFC 9068 §2.1: access tokens are typed "at+jwt" so they cannot be confused with id_tokens.
            TokenType = "at+jwt",
            SigningCredentials = new SigningCredentials(key.Key, SecurityAlgorithms.RsaSha256),
        });
        return new AccessToken(token, jti, settings.AccessTokenLifetimeSeconds, expires);
    }

    /// <summary>An OpenID Connect id_token for a dealer user (audience: the client).</summary>
    public async Task<string> CreateIdTokenAsync(OAuthClient client, DealerUser user, IReadOnlySet<string> scopes, string? nonce, DateTimeOffset authTime, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var key = await keys.GetCurrentAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var claims = new Dictionary<string, object>
        {
            ["sub"] = user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["auth_time"] = authTime.ToUnixTimeSeconds(),
            ["azp"] = client.ClientId,
        };
        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }

        if (scopes.Contains(Scopes.Email))
        {
            claims["email"] = user.Email;
        }

        if (scopes.Contains(Scopes.Profile))
        {
            claims["name"] = user.Email;
            claims["dealer_id"] = user.DealerId;
            claims["role"] = user.Role;
        }

        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = client.ClientId,
            IssuedAt = now.UtcDateTime,
            Expires = now.AddSeconds(settings.AccessTokenLifetimeSeconds).UtcDateTime,
            Claims = claims,
            TokenType = "JWT",
            SigningCredentials = new SigningCredentials(key.Key, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>RFC 7636 S256: BASE64URL(SHA256(ASCII(code_verifier))).</summary>
    public static string S256(string verifier) =>
        Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(verifier)));
}
