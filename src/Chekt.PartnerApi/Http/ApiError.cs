using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;

namespace Chekt.PartnerApi.Http;

/// <summary>
/// An error answer in the spec's error shape. Handlers return it as a typed result; middleware
/// writes it through <see cref="ErrorWriter"/>; both end in the same body.
/// </summary>
public sealed class ApiError : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public ApiError(int statusCode, string code, string message, string? field = null, IReadOnlyList<ErrorDetail>? details = null)
    {
        StatusCode = statusCode;
        Code = code;
        Message = message;
        Field = field;
        Details = details ?? (field is null ? [] : [new ErrorDetail(field, message)]);
    }

    public int StatusCode { get; }

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public string Code { get; }

    public string Message { get; }

    public string? Field { get; }

    public IReadOnlyList<ErrorDetail> Details { get; }

    /// <summary>Headers to add to the answer (e.g. <c>Retry-After</c>, <c>WWW-Authenticate</c>).</summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    public static ApiError Validation(string field, string message) =>
        new(StatusCodes.Status400BadRequest, ErrorCodes.ValidationFailed, message, field);

    public static ApiError Validation(IReadOnlyList<ErrorDetail> details) =>
        new(StatusCodes.Status400BadRequest, ErrorCodes.ValidationFailed, details[0].Message, details[0].Field, details);

    public static ApiError BadRequest(string code, string message, string? field = null) =>
        new(StatusCodes.Status400BadRequest, code, message, field);

    public static ApiError NotFound(string code, string message) => new(StatusCodes.Status404NotFound, code, message);

    public static ApiError Forbidden(string code, string message) => new(StatusCodes.Status403Forbidden, code, message);

    public static ApiError Conflict(string code, string message, string? field = null) =>
        new(StatusCodes.Status409Conflict, code, message, field);

    public static ApiError ForStatus(int status) =>
        new(status, ErrorCodes.ForStatus(status), ErrorCodes.MessageForStatus(status));

    public Task ExecuteAsync(HttpContext httpContext) => ErrorWriter.WriteAsync(httpContext, this);

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(ErrorEnvelope), ["application/json"]));
    }
}
