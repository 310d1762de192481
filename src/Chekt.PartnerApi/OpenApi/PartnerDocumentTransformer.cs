using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Chekt.PartnerApi.OpenApi;

/// <summary>
/// The document's title, description, server and tags, and a stable order of its components, so that
/// the committed copy (<c>docs/openapi.json</c>) changes only when the contract does.
/// </summary>
internal sealed class PartnerDocumentTransformer : IOpenApiDocumentTransformer
{
    /// <summary>The tags in the order the docs show them, with what each covers.</summary>
    private static readonly (string Name, string Description)[] KnownTags =
    [
        ("Dealers", "Connect a CHeKT dealer account to your system, read and update its company details, disconnect it."),
        ("Sites", "A dealer's sites (the monitored premises) and their arming settings."),
        ("Contacts", "The people called during an alarm at a site."),
        ("MonitoringStations", "The dealer's monitoring stations, which sites refer to."),
        ("Devices", "The cameras and bridges at a site; create is bulk (up to 500 per request)."),
    ];

    private const string Description =
        """
        Sync a dealer's sites, contacts, monitoring stations and devices from your system into CHeKT.

        **Authentication.** Every request needs `Authorization: Bearer <access token>` from this server's
        OAuth 2.0 token endpoint `/oauth/token`: client credentials for machine-to-machine calls, or the
        authorization code flow (`/authorize`) for a dealer user; connecting and disconnecting a dealer
        need a dealer admin's user token. Each operation lists the scope it needs.

        **Conventions.** JSON bodies in UTF-8 with snake_case names; unknown fields are refused. CHeKT ids
        are positive integers; `external_*_id`s are your strings. Timestamps are UTC ISO 8601 with
        milliseconds. Lists are bare arrays ordered by id, paged with `limit`/`after` and the `Link`
        header. Every error has the body `{"error": {"code", "message", "request_id", "field", "details"}}`
        with a stable `code`. `x-partner-trace-id` follows a request through the logs; `Idempotency-Key`
        makes writes safe to retry; `ETag`/`If-Match` prevent lost updates; `X-RateLimit-*` report the
        client's rate limit.
        """;

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo { Title = "CHeKT Partner API", Version = "v1", Description = Description };

        // Note: relative, so the document names no host: clients resolve paths against where they fetched it.
        document.Servers = [new OpenApiServer { Url = "/", Description = "The server this document is served from." }];

        var used = (document.Paths ?? []).Values
            .SelectMany(path => path.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>())
            .SelectMany(operation => operation.Tags ?? Enumerable.Empty<OpenApiTagReference>())
            .Select(tag => tag.Name)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var tags = new HashSet<OpenApiTag>();
        foreach (var (name, description) in KnownTags.Where(tag => used.Contains(tag.Name, StringComparer.Ordinal)))
        {
            tags.Add(new OpenApiTag { Name = name, Description = description });
        }

        foreach (var name in used.Where(name => !KnownTags.Any(tag => tag.Name == name)))
        {
            tags.Add(new OpenApiTag { Name = name });
        }

        document.Tags = tags;

        if (document.Components is { } components)
        {
            components.Schemas = Sorted(components.Schemas);
            components.Parameters = Sorted(components.Parameters);
            components.Headers = Sorted(components.Headers);
            components.SecuritySchemes = Sorted(components.SecuritySchemes);
        }

        return Task.CompletedTask;
    }

    private static Dictionary<string, T>? Sorted<T>(IDictionary<string, T>? items) =>
        items?.OrderBy(item => item.Key, StringComparer.Ordinal).ToDictionary(item => item.Key, item => item.Value, StringComparer.Ordinal);
}
