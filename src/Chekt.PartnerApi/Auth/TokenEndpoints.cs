using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Chekt.PartnerApi.Auth;

/// <summary>
/// <c>POST /oauth/token</c> (RFC 6749 §3.2) and <c>POST /oauth/revoke</c> (RFC 7009). One handler
/// branches on the grant type; every answer is uncacheable JSON in the RFC's shapes.
/// </summary>
public static class TokenEndpoints
{
    private const string ClientCredentials = "client_credentials";
    private const string AuthorizationCode = "authorization_code";
    private const string RefreshToken = "refresh_token";

    public static IEndpointRouteBuilder MapTokenEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/oauth").WithTags("OAuth").DisableAntiforgery();
        group.MapPost("/token", IssueTokenAsync).WithName("Token");
        group.MapPost("/revoke", RevokeAsync).WithName("Revoke");
        return app;
    }

    private sealed record TokenContext(
        OAuthClient Client, OAuthForm Form, AuthOptions Options, TokenIssuer Issuer, GrantStore Grants, DealerUserStore Users);

    private static async Task<IResult> IssueTokenAsync(
        HttpContext context, ClientAuthenticator authenticator, TokenIssuer issuer, GrantStore grants, DealerUserStore users,
        TokenEndpointRateLimiter rateLimiter, IOptions<AuthOptions> options, CancellationToken cancellationToken)
    {
        if (rateLimiter.TryAcquireForAddress(context) is { } limited)
        {
            return limited;
        }

        var (form, formError) = await OAuthForm.ReadAsync(context.Request, cancellationToken);
        if (formError is not null)
        {
            return formError;
        }

        var grantType = form!["grant_type"];
        if (grantType is null)
        {
            return OAuthError.InvalidRequest("grant_type is required.");
        }

        // Note: no implicit or password grant (spec §2.1; OAuth 2.0 Security BCP).
        if (grantType is not (ClientCredentials or AuthorizationCode or RefreshToken))
        {
            return new OAuthError(OAuthErrors.UnsupportedGrantType, $"The grant type '{grantType}' is not supported.");
        }

        var authentication = await authenticator.AuthenticateAsync(context.Request, form, cancellationToken);
        if (authentication.Error is not null)
        {
            return authentication.Error;
        }

        var client = authentication.Client!;
        if (rateLimiter.TryAcquireForClient(client.ClientId) is { } clientLimited)
        {
            return clientLimited;
        }

        var token = new TokenContext(client, form, options.Value, issuer, grants, users);
        var result = grantType switch
        {
            ClientCredentials => await ClientCredentialsAsync(token, cancellationToken),
            AuthorizationCode => await AuthorizationCodeAsync(token, cancellationToken),
            _ => await RefreshAsync(token, cancellationToken),
        };
        return result;
    }

    private static async Task<IResult> ClientCredentialsAsync(TokenContext context, CancellationToken cancellationToken)
    {
        var (client, form) = (context.Client, context.Form);
        if (client.IsPublic)
        {
            return new OAuthError(OAuthErrors.UnauthorizedClient, "A public client cannot use client credentials.");
        }

        var allowed = client.Scopes.Where(Scopes.Api.Contains).ToHashSet(StringComparer.Ordinal);
        var (scope, scopeError) = ResolveScope(form["scope"], allowed);
        if (scopeError is not null)
        {
            return scopeError;
        }

        var (audience, partnerClaim, requestError) = ReadAudienceAndPartnerClaim(context);
        if (requestError is not null)
        {
            return requestError;
        }

        // Note: Auth0-compatible M2M subject "<client_id>@clients" and grant type "client-credentials".
        var access = await context.Issuer.CreateAccessTokenAsync(
            new TokenGrant(client, $"{client.ClientId}@clients", scope, audience, partnerClaim, "client-credentials"), cancellationToken);
        return Success(new TokenResponse(access.Token, "Bearer", access.ExpiresIn, scope, null, null));
    }

    private static async Task<IResult> AuthorizationCodeAsync(TokenContext context, CancellationToken cancellationToken)
    {
        var (client, form) = (context.Client, context.Form);
        var code = form["code"];
        // Note: as at /authorize, redirect_uri may be left out when the client has exactly one registered: the code's can
        // then only be that one, so there is no other URI a code could have been sent to (RFC 6749 §10.6).
        var redirectUri = form["redirect_uri"] ?? (client.RedirectUris.Count == 1 ? client.RedirectUris[0] : null);
        if (code is null || redirectUri is null)
        {
            return OAuthError.InvalidRequest("code is required, and redirect_uri unless the client has exactly one registered.");
        }

        var grant = await context.Grants.FindCodeAsync(code, cancellationToken);
        // Note: a code of another client is answered exactly like an unknown one.
        if (grant is null || grant.ClientPk != client.Id)
        {
            return OAuthError.InvalidGrant("The authorization code is invalid.");
        }

        if (grant.ConsumedAt is not null)
        {
            await context.Grants.RevokeIssuedByCodeAsync(grant, context.Options.AccessTokenLifetimeSeconds, cancellationToken);
            return OAuthError.InvalidGrant("The authorization code was already used; the tokens it issued are revoked.");
        }

        if (grant.ExpiresAt <= NowMs(context))
        {
            return OAuthError.InvalidGrant("The authorization code has expired.");
        }

        if (!string.Equals(grant.RedirectUri, redirectUri, StringComparison.Ordinal))
        {
            return OAuthError.InvalidGrant("redirect_uri does not match the one of the authorization request.");
        }

        var verifier = form["code_verifier"];
        if (grant.CodeChallenge is null)
        {
            // Note: a verifier for a code issued without a challenge is a downgrade attempt (RFC 9700 §2.1.1).
            if (verifier is not null)
            {
                return OAuthError.InvalidGrant("code_verifier was sent but the authorization request had no code_challenge.");
            }
        }
        else if (verifier is null || !Pkce.IsValidVerifier(verifier)
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(TokenIssuer.S256(verifier)), Encoding.ASCII.GetBytes(grant.CodeChallenge)))
        {
            return OAuthError.InvalidGrant("The code_verifier does not match the code_challenge.");
        }

        // Note: the audience and the partner claim are checked before the code is spent, so a bad request does not burn it.
        var (_, partnerClaim, requestError) = ReadAudienceAndPartnerClaim(context);
        if (requestError is not null)
        {
            return requestError;
        }

        if (!await context.Grants.ConsumeCodeAsync(grant.Id, cancellationToken))
        {
            var used = await context.Grants.FindCodeAsync(code, cancellationToken);
            await context.Grants.RevokeIssuedByCodeAsync(used ?? grant, context.Options.AccessTokenLifetimeSeconds, cancellationToken);
            return OAuthError.InvalidGrant("The authorization code was already used; the tokens it issued are revoked.");
        }

        var user = await context.Users.FindAsync(grant.UserId, cancellationToken);
        if (user is null)
        {
            return OAuthError.InvalidGrant("The user of this authorization code no longer exists.");
        }

        var issued = await IssueUserTokensAsync(context, user, grant.Scope, grant.Scope, grant.Audience, partnerClaim, partnerClaim, familyId: null, grant.Nonce,
            DateTimeOffset.FromUnixTimeMilliseconds(grant.CreatedAt), cancellationToken);
        await context.Grants.RecordIssuedByCodeAsync(grant.Id, issued.Jti, issued.RefreshFamily, cancellationToken);
        return Success(issued.Response);
    }

    private static async Task<IResult> RefreshAsync(TokenContext context, CancellationToken cancellationToken)
    {
        var (client, form) = (context.Client, context.Form);
        var presented = form["refresh_token"];
        if (presented is null)
        {
            return OAuthError.InvalidRequest("refresh_token is required.");
        }

        var grant = await context.Grants.FindRefreshTokenAsync(presented, cancellationToken);
        if (grant is null || grant.ClientPk != client.Id || grant.RevokedAt is not null)
        {
            return OAuthError.InvalidGrant("The refresh token is invalid.");
        }

        // Note: rotation with reuse detection (RFC 9700 §4.14.2): presenting a rotated token means it
        // leaked, so its whole family is revoked, including the token the legitimate client holds.
        if (grant.ConsumedAt is not null)
        {
            await context.Grants.RevokeFamilyAsync(grant.FamilyId, cancellationToken);
            return OAuthError.InvalidGrant("The refresh token was already used; its token family is revoked.");
        }

        if (grant.ExpiresAt <= NowMs(context))
        {
            return OAuthError.InvalidGrant("The refresh token has expired.");
        }

        var original = grant.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        // Absent scope: the one originally granted, in its order (RFC 6749 §6).
        var (scope, scopeError) = form["scope"] is null ? (grant.Scope, null) : ResolveScope(form["scope"], original);
        if (scopeError is not null)
        {
            return scopeError;
        }

        var (_, requestedClaim, requestError) = ReadAudienceAndPartnerClaim(context);
        if (requestError is not null)
        {
            return requestError;
        }

        var (partnerClaim, claimError) = NarrowPartnerClaim(grant.PartnerClaim, requestedClaim);
        if (claimError is not null)
        {
            return OAuthError.InvalidRequest(claimError);
        }

        var user = await context.Users.FindAsync(grant.UserId, cancellationToken);
        if (user is null)
        {
            return OAuthError.InvalidGrant("The user of this refresh token no longer exists.");
        }

        // The token is spent only once the request is known to be good; a concurrent use loses here.
        if (!await context.Grants.RotateRefreshTokenAsync(grant.Id, cancellationToken))
        {
            await context.Grants.RevokeFamilyAsync(grant.FamilyId, cancellationToken);
            return OAuthError.InvalidGrant("The refresh token was already used; its token family is revoked.");
        }

        var issued = await IssueUserTokensAsync(context, user, scope, grant.Scope, grant.Audience, partnerClaim, grant.PartnerClaim, grant.FamilyId, nonce: null,
            DateTimeOffset.FromUnixTimeMilliseconds(grant.CreatedAt), cancellationToken);
        return Success(issued.Response);
    }

    /// <summary>
    /// The partner claim of a token issued by refresh: the one the refresh token was issued with, or a narrower one
    /// asked for now (the same dealer, and a site where the family's claim names none or the same one).
    /// </summary>
    /// <remarks>
    /// Note: like a narrower scope (RFC 6749 §6), a narrower partner claim applies to the access token issued now; the
    /// rotated refresh token keeps the family's claim. A claim that names another dealer or site would widen what the
    /// family was narrowed to, so it is refused.
    /// </remarks>
    private static (string? Json, string? Error) NarrowPartnerClaim(string? familyClaimJson, string? requestedJson)
    {
        if (requestedJson is null || familyClaimJson is null)
        {
            return (requestedJson ?? familyClaimJson, null);
        }

        using var family = System.Text.Json.JsonDocument.Parse(familyClaimJson);
        using var asked = System.Text.Json.JsonDocument.Parse(requestedJson);
        var (familyClaim, askedClaim) = (PartnerClaim.FromElement(family.RootElement), PartnerClaim.FromElement(asked.RootElement));
        var narrower = familyClaim is not null && askedClaim is not null && askedClaim.DealerId == familyClaim.DealerId
            && (familyClaim.SiteId is null || askedClaim.SiteId == familyClaim.SiteId);
        return narrower
            ? (requestedJson, null)
            : (null, "The partner claim may only narrow the one this refresh token was issued with (the same dealer_id and site_id).");
    }

    private sealed record UserTokens(TokenResponse Response, string Jti, string? RefreshFamily);

    // partnerClaim: the access token's (JSON), if any; familyPartnerClaim: the one the refresh token family keeps.
    private static async Task<UserTokens> IssueUserTokensAsync(TokenContext context, DealerUser user, string scope, string grantedScope,
        string audience, string? partnerClaim, string? familyPartnerClaim, string? familyId, string? nonce, DateTimeOffset authTime,
        CancellationToken cancellationToken)
    {
        var client = context.Client;
        var scopes = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var access = await context.Issuer.CreateAccessTokenAsync(
            new TokenGrant(client, user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), scope, audience, partnerClaim, null), cancellationToken);

        string? refresh = null;
        if (grantedScope.Split(' ').Contains(Scopes.OfflineAccess))
        {
            familyId ??= Guid.NewGuid().ToString("N");
            refresh = await context.Grants.CreateRefreshTokenAsync(familyId, client.Id, user.Id, grantedScope, audience, familyPartnerClaim, access, cancellationToken);
        }

        var idToken = scopes.Contains(Scopes.OpenId)
            ? await context.Issuer.CreateIdTokenAsync(client, user, scopes, nonce, authTime, cancellationToken)
            : null;
        return new UserTokens(new TokenResponse(access.Token, "Bearer", access.ExpiresIn, scope, refresh, idToken), access.Jti, refresh is null ? null : familyId);
    }

    private static async Task<IResult> RevokeAsync(
        HttpContext context, ClientAuthenticator authenticator, GrantStore grants, TokenEndpointRateLimiter rateLimiter,
        IOptions<AuthOptions> options, CancellationToken cancellationToken)
    {
        if (rateLimiter.TryAcquireForAddress(context) is { } limited)
        {
            return limited;
        }

        var (form, formError) = await OAuthForm.ReadAsync(context.Request, cancellationToken);
        if (formError is not null)
        {
            return formError;
        }

        var authentication = await authenticator.AuthenticateAsync(context.Request, form!, cancellationToken);
        if (authentication.Error is not null)
        {
            return authentication.Error;
        }

        var token = form!["token"];
        if (token is null)
        {
            return OAuthError.InvalidRequest("token is required.");
        }

        var client = authentication.Client!;
        // Note: RFC 7009 §2.2: the answer is 200 whether or not the token was valid, so that
        // revocation cannot be used to test tokens; only the client's own tokens are touched.
        var refresh = await grants.FindRefreshTokenAsync(token, cancellationToken);
        if (refresh is not null && refresh.ClientPk == client.Id)
        {
            await grants.RevokeFamilyAsync(refresh.FamilyId, cancellationToken);
        }
        else if (refresh is null && TryReadOwnAccessToken(token, client, options.Value) is { } access)
        {
            await grants.RevokeAccessTokenAsync(access.Jti, access.ExpiresAt, cancellationToken);
        }

        OAuthError.NoStore(context.Response);
        return TypedResults.Ok();
    }

    /// <summary>An access token of ours issued to this client (signature is not needed: revoking a forged jti harms nobody).</summary>
    private static (string Jti, long ExpiresAt)? TryReadOwnAccessToken(string token, OAuthClient client, AuthOptions options)
    {
        try
        {
            var jwt = new JsonWebTokenHandler().ReadJsonWebToken(token);
            return jwt.Issuer == options.Issuer && jwt.TryGetPayloadValue<string>("azp", out var azp) && azp == client.ClientId
                && !string.IsNullOrEmpty(jwt.Id) && jwt.Id.Length <= 64
                ? (jwt.Id, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero).ToUnixTimeMilliseconds() + 60_000)
                : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The requested scope (space-separated) within what is allowed; absent = everything allowed.</summary>
    private static (string Scope, OAuthError? Error) ResolveScope(string? requested, IReadOnlySet<string> allowed)
    {
        if (requested is null)
        {
            return allowed.Count == 0
                ? ("", OAuthError.InvalidScope("The client is not allowed any scope for this grant."))
                : (string.Join(' ', allowed.Order(StringComparer.Ordinal)), null);
        }

        var scopes = requested.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (scopes.Length == 0)
        {
            // RFC 6749 §3.3: a scope is one or more scope tokens; an empty or blank one asks for nothing usable.
            return ("", OAuthError.InvalidScope("No scope requested: leave scope out for the default, or name at least one."));
        }

        var notAllowed = scopes.FirstOrDefault(s => !allowed.Contains(s));
        return notAllowed is not null
            ? ("", OAuthError.InvalidScope($"The scope '{notAllowed}' is not allowed for this client or grant."))
            : (string.Join(' ', scopes.Distinct(StringComparer.Ordinal)), null);
    }

    /// <summary>The request's <c>audience</c> (the configured one when left out) and its partner claim (JSON), or why they are refused.</summary>
    private static (string Audience, string? PartnerClaim, OAuthError? Error) ReadAudienceAndPartnerClaim(TokenContext context)
    {
        var audience = context.Form["audience"] ?? context.Options.Audience;
        if (audience != context.Options.Audience)
        {
            return ("", null, OAuthError.InvalidRequest($"Unknown audience '{audience}'."));
        }

        var (partnerClaim, claimError) = PartnerClaim.ParseParameter(context.Form[context.Options.PartnerClaimName]);
        return claimError is not null ? ("", null, OAuthError.InvalidRequest(claimError)) : (audience, partnerClaim, null);
    }

    private static long NowMs(TokenContext context) => context.Issuer.Now.ToUnixTimeMilliseconds();

    private static IResult Success(TokenResponse response) => new TokenResult(response);

    private sealed class TokenResult(TokenResponse response) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            OAuthError.NoStore(httpContext.Response);
            return httpContext.Response.WriteAsJsonAsync(response, AuthJsonContext.Default.TokenResponse, cancellationToken: httpContext.RequestAborted);
        }
    }
}

/// <summary>RFC 7636 helpers.</summary>
public static class Pkce
{
    /// <summary>43 to 128 characters of <c>[A-Z a-z 0-9 - . _ ~]</c> (RFC 7636 §4.1); a challenge has the same form.</summary>
    public static bool IsValidVerifier(string value) =>
        value.Length is >= 43 and <= 128 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~');
}
