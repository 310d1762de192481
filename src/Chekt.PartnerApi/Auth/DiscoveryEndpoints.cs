using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Chekt.PartnerApi.Auth;

/// <summary>JWKS (RFC 7517), authorization server metadata (RFC 8414) and OpenID Connect discovery.</summary>
public static class DiscoveryEndpoints
{
    public static IEndpointRouteBuilder MapDiscoveryEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/.well-known").WithTags("OAuth");
        group.MapGet("/jwks.json", JwksAsync).WithName("Jwks");
        group.MapGet("/oauth-authorization-server", (IOptions<AuthOptions> options) => Json(Metadata(options.Value))).WithName("AuthorizationServerMetadata");
        group.MapGet("/openid-configuration", (IOptions<AuthOptions> options) => Json(Metadata(options.Value))).WithName("OpenIdConfiguration");
        return app;
    }

    private static async Task<IResult> JwksAsync(SigningKeyStore keys, CancellationToken cancellationToken)
    {
        // Every key still accepted is published: the current one, and retired ones until their tokens expire.
        var set = await keys.GetKeySetAsync(forceRefresh: false, cancellationToken);
        var array = new JsonArray([.. set.Published.Values.Select(k => JsonNode.Parse(k.PublicJwk))]);
        return Json(new JsonObject { ["keys"] = array });
    }

    public static JsonObject Metadata(AuthOptions options)
    {
        var issuer = options.Issuer;
        var baseUrl = issuer.TrimEnd('/');
        string[] authMethods = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];
        return new JsonObject
        {
            ["issuer"] = issuer,
            ["authorization_endpoint"] = $"{baseUrl}/authorize",
            ["token_endpoint"] = $"{baseUrl}/oauth/token",
            ["revocation_endpoint"] = $"{baseUrl}/oauth/revoke",
            ["end_session_endpoint"] = $"{baseUrl}/oauth/logout",
            ["jwks_uri"] = $"{baseUrl}/.well-known/jwks.json",
            ["response_types_supported"] = new JsonArray("code"),
            ["response_modes_supported"] = new JsonArray("query"),
            ["grant_types_supported"] = new JsonArray("authorization_code", "client_credentials", "refresh_token"),
            ["token_endpoint_auth_methods_supported"] = new JsonArray([.. authMethods.Select(m => JsonValue.Create(m))]),
            ["token_endpoint_auth_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["revocation_endpoint_auth_methods_supported"] = new JsonArray([.. authMethods.Select(m => JsonValue.Create(m))]),
            ["code_challenge_methods_supported"] = new JsonArray("S256"),
            ["scopes_supported"] = new JsonArray([.. Scopes.User.Concat(Scopes.Api).Select(s => JsonValue.Create(s))]),
            ["subject_types_supported"] = new JsonArray("public"),
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["claims_supported"] = new JsonArray("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "email", "name"),
            ["prompt_values_supported"] = new JsonArray("none", "login", "consent"),
        };
    }

    private static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(), "application/json; charset=utf-8");
}
