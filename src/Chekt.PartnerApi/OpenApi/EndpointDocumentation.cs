namespace Chekt.PartnerApi.OpenApi;

/// <summary>
/// The JSON body an endpoint reads (handlers parse their bodies themselves with <c>JsonBody</c>), for
/// the OpenAPI document only. <see cref="MinItems"/>/<see cref="MaxItems"/> bound an array body.
/// </summary>
/// <remarks>
/// Note: deliberately not <c>Accepts&lt;T&gt;()</c>. Its <c>IAcceptsMetadata</c> takes part in routing: a
/// request with another content type would be answered 415 by the router, before the endpoint's
/// filters (authentication, scope, dealer access) run, which would change what the API answers.
/// </remarks>
public sealed record JsonRequestBody(Type Type, int? MinItems = null, int? MaxItems = null);

/// <summary>
/// A single-resource endpoint with optimistic concurrency (spec §7): its 200/201 answers carry the
/// resource's <c>ETag</c>, and as PUT, PATCH or DELETE it honours <c>If-Match</c> (412 when stale).
/// </summary>
public sealed record OptimisticConcurrency;

/// <summary>An error answer particular to one endpoint, documented next to those every endpoint of its kind has.</summary>
public sealed record EndpointError(int StatusCode, string Description);

/// <summary>
/// JSON null is refused (400) for this request field although its C# type is nullable (the handler
/// needs null to tell "absent" from "given"). For the OpenAPI document only.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class NonNullableAttribute : Attribute;

/// <summary>Endpoint conventions that only describe the endpoint in the OpenAPI document; none changes how a request is handled.</summary>
public static class EndpointDocumentationExtensions
{
    /// <summary>The endpoint reads a JSON body of type <typeparamref name="TBody"/>.</summary>
    public static RouteHandlerBuilder AcceptsJsonBody<TBody>(this RouteHandlerBuilder builder, int? minItems = null, int? maxItems = null) =>
        builder.WithMetadata(new JsonRequestBody(typeof(TBody), minItems, maxItems));

    /// <summary>See <see cref="OptimisticConcurrency"/>.</summary>
    public static TBuilder WithOptimisticConcurrency<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new OptimisticConcurrency());

    /// <summary>See <see cref="EndpointError"/>; the description is Markdown.</summary>
    public static TBuilder ProducesError<TBuilder>(this TBuilder builder, int statusCode, string description) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new EndpointError(statusCode, description));
}
