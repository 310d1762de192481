using System.Globalization;
using Chekt.PartnerApi.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;

namespace Chekt.PartnerApi.OpenApi;

/// <summary>
/// Completes every <c>/partner/v1</c> operation from its endpoint's route and metadata (see
/// <see cref="EndpointFacts"/>): path ids, paging and header parameters, the JSON request body, the
/// response headers, every error status the operation can answer, and the OAuth security requirement.
/// </summary>
internal sealed class PartnerOperationTransformer : IOpenApiOperationTransformer
{
    private const string Json = "application/json";

    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document ?? throw new InvalidOperationException("The operation transformer runs without its document.");
        var facts = EndpointFacts.From(context.Description);

        operation.Parameters = Parameters(document, facts);
        if (facts.Body is { } body)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = body.MaxItems is { } max
                    ? $"A JSON array of 1 to {max.ToString(CultureInfo.InvariantCulture)} items. Unknown fields are refused."
                    : "Unknown fields are refused (400 `unknown_field`); field names are case-sensitive.",
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                {
                    [Json] = new() { Schema = await BodySchemaAsync(document, context, body, cancellationToken), Example = ApiExamples.Request(operation.OperationId) },
                },
            };
        }

        var responses = new OpenApiResponses();
        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (status.StartsWith('2') && response is OpenApiResponse success)
            {
                Complete(document, facts, operation.OperationId, status, success);
                responses[status] = success;
            }
        }

        var errorSchema = await ComponentSchemaAsync(document, context, typeof(ErrorEnvelope), cancellationToken);
        foreach (var (status, description) in Errors(facts))
        {
            responses[status.ToString(CultureInfo.InvariantCulture)] = ErrorResponse(document, facts, status, description, errorSchema);
        }

        operation.Responses = responses;
        operation.Security = Security(document, facts);
    }

    private static List<IOpenApiParameter> Parameters(OpenApiDocument document, EndpointFacts facts)
    {
        var names = facts.RouteParameters.Concat(facts.QueryParameters).Append(SharedComponents.TraceIdHeader);
        if (facts.IsWrite)
        {
            names = names.Append(SharedComponents.IdempotencyKeyHeader);
        }

        if (facts.HonoursIfMatch)
        {
            names = names.Append(SharedComponents.IfMatchHeader);
        }

        return [.. names.Select(name => SharedComponents.Parameter(document, name))];
    }

    /// <summary>Response headers and the example of a success answer.</summary>
    private static void Complete(OpenApiDocument document, EndpointFacts facts, string? operationId, string status, OpenApiResponse response)
    {
        var headers = new List<string> { SharedComponents.TraceIdHeader, "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset" };
        if (facts.HasETag && status != "204")
        {
            headers.Add("ETag");
        }

        if (status == "201")
        {
            headers.Add("Location");
        }

        if (facts.IsList)
        {
            headers.Add("Link");
            response.Description = "A page of items ordered by id (a bare JSON array); `Link` names the next page when more remain.";
        }

        if (facts.IsWrite)
        {
            headers.Add("Idempotent-Replayed");
        }

        response.Headers = headers.ToDictionary(name => name, name => SharedComponents.Header(document, name), StringComparer.Ordinal);
        if (response.Content?.TryGetValue(Json, out var content) == true && ApiExamples.Response(operationId) is { } example)
        {
            content.Example = example;
        }
    }

    /// <summary>Every error the endpoint can answer, derived from what it is; descriptions are Markdown lists of the codes.</summary>
    private static SortedDictionary<int, List<string>> Errors(EndpointFacts facts)
    {
        var errors = new SortedDictionary<int, List<string>>();
        void Add(int status, string line)
        {
            if (!errors.TryGetValue(status, out var lines))
            {
                errors[status] = lines = [];
            }

            lines.Add(line);
        }

        if (facts.Body is not null)
        {
            Add(400, "`malformed_json`, `body_required`: the body is not well-formed JSON in UTF-8 (at most 16 levels deep, no duplicate names), or is empty.");
            Add(400, "`unknown_field`, `invalid_type`: a field the endpoint does not know, or a value of the wrong JSON type; `field` names it.");
            Add(400, "`validation_failed`: a value breaks a rule (required, blank, length, format); `details` lists every problem.");
        }

        if (facts.RouteParameters.Count > 0)
        {
            Add(400, $"`validation_failed`: a path id ({Codes(facts.RouteParameters)}) is not a positive 64-bit integer.");
        }

        if (facts.IsList)
        {
            Add(400, $"`validation_failed`: `limit` is not an integer from 1 to {Page.MaxLimit.ToString(CultureInfo.InvariantCulture)}, or `after` is not a positive id.");
        }

        Add(400, "`unknown_parameter`: a query parameter the endpoint does not take.");
        Add(400, "`invalid_trace_id`: `x-partner-trace-id` is malformed.");
        if (facts.IsWrite)
        {
            Add(400, "`invalid_idempotency_key`: `Idempotency-Key` is empty, longer than 255 characters or not visible ASCII.");
        }

        if (facts.HonoursIfMatch)
        {
            Add(400, "`bad_request`: `If-Match` is not a valid entity-tag list.");
        }

        Add(401, "`invalid_token`: the bearer token is missing, malformed, expired, revoked, wrongly signed or issued for another audience.");

        if (facts.Scopes.Count > 0)
        {
            Add(403, $"`insufficient_scope`: the token lacks the scope {Codes(facts.Scopes)}.");
        }

        if (facts.RequiresDealerAdmin)
        {
            Add(403, "`forbidden`: the token is not a dealer admin's user token (a client-credentials token, or a member's).");
        }

        if (facts.RouteParameters.Contains("dealerId"))
        {
            Add(403, "`dealer_not_connected`: the dealer is not connected to your partner account.");
            Add(403, "`forbidden`: a user token of another dealer, or a token narrowed by the partner claim to another dealer or site.");
            Add(404, $"{Codes(facts.RouteParameters.Select(NotFoundCode))}: no such resource under this path (a resource of another dealer or site is not found either).");
        }

        if (facts.IsWrite)
        {
            Add(409, "`idempotency_conflict`: the `Idempotency-Key` was used for a different request; or, with `Retry-After`, "
                + "the first request with it is still running: retry after `Retry-After` seconds to get its answer.");
        }

        if (facts.HonoursIfMatch)
        {
            Add(412, "`precondition_failed`: `If-Match` no longer matches the resource's ETag; read it again and retry.");
        }

        if (facts.Body is not null)
        {
            Add(413, $"`payload_too_large`: the body exceeds {(RequestLimits.MaxBodyBytes / 1024).ToString(CultureInfo.InvariantCulture)} KiB.");
            Add(415, "`unsupported_media_type`: the body is not sent as `application/json` (or `+json`) in UTF-8.");
        }

        Add(429, "`rate_limited`: the client's rate limit is reached; retry after `Retry-After` seconds.");
        Add(503, "`database_unavailable`: the database cannot be reached; retry after `Retry-After` seconds.");

        foreach (var error in facts.Errors)
        {
            Add(error.StatusCode, error.Description);
        }

        return errors;
    }

    private static OpenApiResponse ErrorResponse(OpenApiDocument document, EndpointFacts facts, int status, List<string> lines, IOpenApiSchema schema)
    {
        var headers = new List<string> { SharedComponents.TraceIdHeader };
        if (status == 401 || (status == 403 && facts.Scopes.Count > 0))
        {
            headers.Add("WWW-Authenticate");
        }

        if (status is 429 or 503 || (status == 409 && facts.IsWrite))
        {
            headers.Add("Retry-After");
        }

        if (status == 429)
        {
            headers.AddRange(["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]);
        }

        return new OpenApiResponse
        {
            Description = $"{Title(status)}. The `error.code`:\n\n" + string.Join("\n", lines.Select(line => "- " + line)),
            Headers = headers.ToDictionary(name => name, name => SharedComponents.Header(document, name), StringComparer.Ordinal),
            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal) { [Json] = new() { Schema = schema } },
        };
    }

    private static List<OpenApiSecurityRequirement> Security(OpenApiDocument document, EndpointFacts facts)
    {
        var requirements = new List<OpenApiSecurityRequirement>();
        // Note: connect and disconnect act for the signed-in dealer admin, so only a user token will do (spec §2.4).
        if (!facts.RequiresDealerAdmin)
        {
            requirements.Add(new() { [SharedComponents.SecurityScheme(document, SharedComponents.ClientCredentials)] = [.. facts.Scopes] });
        }

        requirements.Add(new() { [SharedComponents.SecurityScheme(document, SharedComponents.AuthorizationCode)] = [.. facts.Scopes] });
        return requirements;
    }

    private static async Task<IOpenApiSchema> BodySchemaAsync(
        OpenApiDocument document, OpenApiOperationTransformerContext context, JsonRequestBody body, CancellationToken cancellationToken)
    {
        var itemType = body.Type.IsArray
            ? body.Type.GetElementType()
            : body.Type.GetInterfaces().Append(body.Type)
                .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
        if (itemType is null || body.Type == typeof(string))
        {
            return await ComponentSchemaAsync(document, context, body.Type, cancellationToken);
        }

        return new OpenApiSchema
        {
            Type = JsonSchemaType.Array,
            Items = await ComponentSchemaAsync(document, context, itemType, cancellationToken),
            MinItems = body.MinItems,
            MaxItems = body.MaxItems,
        };
    }

    /// <summary>The schema of <paramref name="type"/> as a component, referenced by its type name.</summary>
    private static async Task<IOpenApiSchema> ComponentSchemaAsync(
        OpenApiDocument document, OpenApiOperationTransformerContext context, Type type, CancellationToken cancellationToken)
    {
        if (document.Components?.Schemas?.ContainsKey(type.Name) != true)
        {
            document.AddComponent<IOpenApiSchema>(type.Name, await context.GetOrCreateSchemaAsync(type, null, cancellationToken));
        }

        return new OpenApiSchemaReference(type.Name, document);
    }

    /// <summary><c>monitoringStationId</c> → <c>monitoring_station_not_found</c>, the code the handlers answer.</summary>
    private static string NotFoundCode(string routeParameter) =>
        string.Concat(routeParameter[..^2].Select(c => char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : c.ToString())) + "_not_found";

    private static string Codes(IEnumerable<string> names) => string.Join(", ", names.Select(name => $"`{name}`"));

    private static string Title(int status) => status switch
    {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        409 => "Conflict",
        412 => "Precondition failed",
        413 => "Payload too large",
        415 => "Unsupported media type",
        429 => "Too many requests",
        503 => "Service unavailable",
        _ => ReasonPhrases.GetReasonPhrase(status),
    };
}
