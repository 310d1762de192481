using System.Globalization;
using System.Text.Json.Nodes;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Http;
using Microsoft.OpenApi;

namespace Chekt.PartnerApi.OpenApi;

/// <summary>
/// The reusable parts of the document (<c>components</c>): header and query parameters, response
/// headers and the OAuth security schemes. Each is registered the first time an operation uses it.
/// </summary>
internal static class SharedComponents
{
    public const string ClientCredentials = "clientCredentials";
    public const string AuthorizationCode = "authorizationCode";

    public const string TraceIdHeader = TraceId.HeaderName;
    public const string IdempotencyKeyHeader = IdempotencyFilter.HeaderName;
    public const string IfMatchHeader = "If-Match";

    /// <summary>What each API scope allows (spec §2.3).</summary>
    public static readonly IReadOnlyDictionary<string, string> ApiScopes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [Scopes.ReadDealer] = "Read the dealer.",
        [Scopes.UpdateDealer] = "Update the dealer's company details.",
        [Scopes.CreateSites] = "Create sites.",
        [Scopes.ReadSites] = "Read sites and their arming settings.",
        [Scopes.UpdateSites] = "Update sites and their arming settings.",
        [Scopes.DeleteSites] = "Delete sites (with their contacts and devices).",
        [Scopes.ReadSiteContacts] = "Read site contacts.",
        [Scopes.CreateSiteContacts] = "Create site contacts.",
        [Scopes.UpdateSiteContacts] = "Update site contacts.",
        [Scopes.DeleteSiteContacts] = "Delete site contacts.",
        [Scopes.CreateMonitoringStations] = "Create monitoring stations.",
        [Scopes.ReadMonitoringStations] = "Read monitoring stations.",
        [Scopes.UpdateMonitoringStations] = "Update monitoring stations.",
        [Scopes.DeleteMonitoringStations] = "Delete monitoring stations.",
        [Scopes.CreateDevices] = "Create devices.",
        [Scopes.ReadDevices] = "Read devices.",
        [Scopes.UpdateDevices] = "Update devices.",
        [Scopes.DeleteDevices] = "Delete devices.",
    };

    public static readonly IReadOnlyDictionary<string, string> UserScopes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [Scopes.OpenId] = "Sign the user in (an ID token is issued).",
        [Scopes.Profile] = "The user's profile in the ID token.",
        [Scopes.Email] = "The user's email address in the ID token.",
        [Scopes.OfflineAccess] = "A refresh token (rotated on every use).",
    };

    public static IOpenApiParameter Parameter(OpenApiDocument document, string name)
    {
        if (document.Components?.Parameters?.ContainsKey(name) != true)
        {
            document.AddComponent<IOpenApiParameter>(name, CreateParameter(name));
        }

        return new OpenApiParameterReference(name, document);
    }

    public static IOpenApiHeader Header(OpenApiDocument document, string name)
    {
        if (document.Components?.Headers?.ContainsKey(name) != true)
        {
            document.AddComponent<IOpenApiHeader>(name, CreateHeader(name));
        }

        return new OpenApiHeaderReference(name, document);
    }

    public static OpenApiSecuritySchemeReference SecurityScheme(OpenApiDocument document, string name)
    {
        if (document.Components?.SecuritySchemes?.ContainsKey(name) != true)
        {
            document.AddComponent<IOpenApiSecurityScheme>(name, CreateSecurityScheme(name));
        }

        return new OpenApiSecuritySchemeReference(name, document);
    }

    private static OpenApiParameter CreateParameter(string name) => name switch
    {
        TraceIdHeader => new OpenApiParameter
        {
            Name = name,
            In = ParameterLocation.Header,
            Description = "Optional id to follow the request through the logs (e.g. a UUID). Echoed on the response and returned as "
                + "`request_id` in error bodies; generated when absent. At most 128 letters, digits or `-_.:/+=@` (else 400 `invalid_trace_id`).",
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.String, MaxLength = TraceId.MaxLength, Pattern = "^[A-Za-z0-9_.:/+=@-]+$",
            },
            Example = JsonValue.Create("550e8400-e29b-41d4-a716-123456789000"),
        },
        IdempotencyKeyHeader => new OpenApiParameter
        {
            Name = name,
            In = ParameterLocation.Header,
            Description = "Makes the write safe to retry: for 24 h the first answer for (your client, key) is stored and replayed, with "
                + "`Idempotent-Replayed: true`, for a retry with the same method, path and body. The same key with another request is "
                + "409 `idempotency_conflict`. A retry while the first is still running waits for it and gets its answer; if the first is still "
                + "running after a few seconds, the retry is 409 `idempotency_conflict` with `Retry-After` (503 on the SQLite sandbox): retry "
                + "after it to get the first request's answer. The key, the "
                + "request's writes and its answer commit together; a refused (4xx) request changes nothing. 429 and 5xx answers are not stored. "
                + "1 to 255 visible ASCII characters (else 400 `invalid_idempotency_key`); a UUID is a good choice.",
            // Note: no example value: the docs page would prefill it, and a second try with the same key is a 409.
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.String, MinLength = 1, MaxLength = IdempotencyFilter.MaxKeyLength, Pattern = "^[!-~]+$",
            },
        },
        IfMatchHeader => new OpenApiParameter
        {
            Name = name,
            In = ParameterLocation.Header,
            Description = "Apply the write only if the resource still has this ETag, such as `\"v3\"` (from an earlier answer); "
                + "otherwise 412 `precondition_failed`. `*` or no If-Match applies it unconditionally.",
            // No example value, for the same reason as Idempotency-Key: a prefilled stale ETag would make every try a 412.
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        },
        "limit" => new OpenApiParameter
        {
            Name = name,
            In = ParameterLocation.Query,
            Description = $"Items per page, 1 to {Page.MaxLimit}.",
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = Page.MaxLimit.ToString(CultureInfo.InvariantCulture),
                Default = JsonValue.Create(Page.MaxLimit),
            },
        },
        "after" => new OpenApiParameter
        {
            Name = name,
            In = ParameterLocation.Query,
            Description = "Return only items with a larger id (the last id of the previous page). Easier: follow the `Link` header.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = "1" },
        },
        // Route parameters: the path ids (dealerId, siteId, ...).
        _ when name.EndsWith("Id", StringComparison.Ordinal) => new OpenApiParameter
        {
            Name = name,
            In = ParameterLocation.Path,
            Required = true,
            Description = $"The CHeKT id of the {Words(name[..^2])} (a positive 64-bit integer; anything else is 400 naming `{name}`).",
            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = "1" },
        },
        _ => throw new InvalidOperationException($"The OpenAPI document has no definition for the parameter '{name}'; add one to {nameof(SharedComponents)}."),
    };

    private static OpenApiHeader CreateHeader(string name) => name switch
    {
        TraceIdHeader => new OpenApiHeader
        {
            Description = "The request's trace id: the one sent, or one generated by the server.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        },
        "X-RateLimit-Limit" => IntegerHeader("Requests the client may make in a burst (the bucket size). The X-RateLimit-* headers are absent when the server runs without a rate limit."),
        "X-RateLimit-Remaining" => IntegerHeader("Requests left in the client's bucket."),
        "X-RateLimit-Reset" => IntegerHeader("Seconds until the bucket is full again."),
        "Retry-After" => IntegerHeader("Seconds to wait before retrying."),
        "ETag" => new OpenApiHeader
        {
            Description = "The resource's version; send it back as `If-Match` to write only if nobody changed it meanwhile.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            Example = JsonValue.Create("\"v3\""),
        },
        "Location" => new OpenApiHeader
        {
            Description = "The path of the created resource (of the site's devices for a bulk create).",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri-reference" },
        },
        "Link" => new OpenApiHeader
        {
            Description = "Present when more items remain: `<...?limit=...&after=...>; rel=\"next\"`. Follow it until it is absent.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            Example = JsonValue.Create("</partner/v1/dealers/12345/sites?limit=100&after=1234>; rel=\"next\""),
        },
        "Idempotent-Replayed" => new OpenApiHeader
        {
            Description = "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("true")] },
        },
        "WWW-Authenticate" => new OpenApiHeader
        {
            Description = "The bearer challenge (RFC 6750): `error=\"invalid_token\"` (401) or `error=\"insufficient_scope\"` with the missing `scope` (403).",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        },
        _ => throw new InvalidOperationException($"The OpenAPI document has no definition for the header '{name}'; add one to {nameof(SharedComponents)}."),
    };

    private static OpenApiHeader IntegerHeader(string description) =>
        new() { Description = description, Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64" } };

    // Note: relative URLs, resolved against the server the document is served from (OpenAPI 3.1 §4.3), so
    // the committed document names no host.
    private static OpenApiSecurityScheme CreateSecurityScheme(string name) => name switch
    {
        ClientCredentials => new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.OAuth2,
            Description = "Machine-to-machine access token (`grant_type=client_credentials`), with `client_secret_basic`, "
                + "`client_secret_post` or `private_key_jwt` client authentication. Send it as `Authorization: Bearer <token>`.",
            Flows = new OpenApiOAuthFlows
            {
                ClientCredentials = new OpenApiOAuthFlow
                {
                    TokenUrl = new Uri("/oauth/token", UriKind.Relative),
                    Scopes = new Dictionary<string, string>(ApiScopes, StringComparer.Ordinal),
                },
            },
        },
        AuthorizationCode => new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.OAuth2,
            Description = "A dealer user's access token (authorization code flow; PKCE S256 required for public clients). "
                + "Connecting and disconnecting a dealer need the token of a dealer **admin**.",
            Flows = new OpenApiOAuthFlows
            {
                AuthorizationCode = new OpenApiOAuthFlow
                {
                    AuthorizationUrl = new Uri("/authorize", UriKind.Relative),
                    TokenUrl = new Uri("/oauth/token", UriKind.Relative),
                    RefreshUrl = new Uri("/oauth/token", UriKind.Relative),
                    Scopes = ApiScopes.Concat(UserScopes).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
                },
            },
        },
        _ => throw new InvalidOperationException($"Unknown security scheme '{name}'."),
    };

    /// <summary><c>monitoringStation</c> → <c>monitoring station</c>.</summary>
    private static string Words(string camelCase) =>
        string.Concat(camelCase.Select(c => char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : c.ToString()));
}
