using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerUI;

namespace Chekt.PartnerApi.OpenApi;

/// <summary>
/// The OpenAPI document (<c>GET /openapi/v1.json</c>) generated from the endpoints, and the browsable
/// docs (<c>GET /docs</c>, Swagger UI served from this server's own assets), spec §8. Both are outside
/// <c>/partner/v1</c> and need no token. A copy of the document is committed as <c>docs/openapi.json</c>.
/// </summary>
public static class ApiDocumentation
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/openapi/v1.json";
    public const string DocsPath = "/docs";

    public static IServiceCollection AddPartnerOpenApi(this IServiceCollection services)
    {
        services.AddOpenApi(DocumentName, options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            // The partner API only: health checks and the OAuth endpoints (RFC-defined, form-encoded) are described elsewhere.
            options.ShouldInclude = description => description.RelativePath?.StartsWith("partner/v1/", StringComparison.Ordinal) == true;
            options.AddSchemaTransformer(new PartnerSchemaTransformer());
            options.AddOperationTransformer(new PartnerOperationTransformer());
            options.AddDocumentTransformer(new PartnerDocumentTransformer());
        });
        return services;
    }

    public static WebApplication MapPartnerApiDocs(this WebApplication app)
    {
        app.MapOpenApi(DocumentPath);
        // An endpoint (not middleware), so only requests under /docs ever reach Swagger UI's handler.
        app.MapSwaggerUI(DocsPath.TrimStart('/'), options =>
        {
            options.DocumentTitle = "CHeKT Partner API";
            options.SwaggerEndpoint(DocumentPath, "CHeKT Partner API v1");
            options.DisplayOperationId();
            options.EnableDeepLinking();
            options.DocExpansion(DocExpansion.List);
            // "Authorize" in the page runs the authorization code flow with PKCE; its redirect URI
            // (/docs/oauth2-redirect.html) must be registered for the client used.
            options.OAuthUsePkce();
            // Note: ConfigObject.ValidatorUrl stays unset, which Swashbuckle turns into "no online validator": the page
            // never sends the document to validator.swagger.io, and loads nothing from outside this server.
        });
        return app;
    }
}
