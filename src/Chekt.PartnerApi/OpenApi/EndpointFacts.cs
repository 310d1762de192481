using System.Text.RegularExpressions;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Http;
using Microsoft.AspNetCore.Mvc.ApiExplorer;

namespace Chekt.PartnerApi.OpenApi;

/// <summary>
/// What the OpenAPI document needs to know about one endpoint, read from its route and metadata
/// (scope, dealer-admin requirement, allowed query parameters, body, optimistic concurrency), so that
/// a new endpoint is documented with its parameters, headers, errors and security without more work.
/// </summary>
internal sealed partial record EndpointFacts(
    string Method,
    IReadOnlyList<string> RouteParameters,
    IReadOnlyList<string> QueryParameters,
    IReadOnlyList<string> Scopes,
    bool RequiresDealerAdmin,
    JsonRequestBody? Body,
    bool HasETag,
    IReadOnlyList<EndpointError> Errors)
{
    /// <summary>POST, PUT, PATCH and DELETE: they accept <c>Idempotency-Key</c> (every such route of the API has the idempotency filter).</summary>
    public bool IsWrite => Method is "POST" or "PUT" or "PATCH" or "DELETE";

    /// <summary>A write to an existing resource that honours <c>If-Match</c>.</summary>
    public bool HonoursIfMatch => HasETag && Method is "PUT" or "PATCH" or "DELETE";

    /// <summary>A paged list (<c>limit</c>/<c>after</c>, <c>Link</c>).</summary>
    public bool IsList => QueryParameters.Contains("after");

    public static EndpointFacts From(ApiDescription description)
    {
        var metadata = description.ActionDescriptor.EndpointMetadata;
        return new EndpointFacts(
            (description.HttpMethod ?? "GET").ToUpperInvariant(),
            [.. RouteParameter().Matches(description.RelativePath ?? "").Select(m => m.Groups[1].Value)],
            metadata.OfType<AllowedQueryParameters>().LastOrDefault()?.Names ?? [],
            [.. metadata.OfType<RequiredScope>().Select(s => s.Scope).Distinct(StringComparer.Ordinal)],
            metadata.OfType<RequireDealerAdmin>().Any(),
            metadata.OfType<JsonRequestBody>().LastOrDefault(),
            metadata.OfType<OptimisticConcurrency>().Any(),
            [.. metadata.OfType<EndpointError>()]);
    }

    [GeneratedRegex(@"\{\*{0,2}([A-Za-z0-9_]+)[^}]*\}", RegexOptions.CultureInvariant)]
    private static partial Regex RouteParameter();
}
