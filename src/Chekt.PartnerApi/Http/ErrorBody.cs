using System.Text.Json.Serialization;

namespace Chekt.PartnerApi.Http;

/// <summary>The one error shape of the API (spec §7): <c>{"error":{...}}</c>.</summary>
public sealed record ErrorEnvelope([property: JsonPropertyName("error")] ErrorBody Error);

public sealed record ErrorBody(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("field")] string? Field,
    [property: JsonPropertyName("details")] IReadOnlyList<ErrorDetail> Details);

public sealed record ErrorDetail(
    [property: JsonPropertyName("field")] string Field,
    [property: JsonPropertyName("message")] string Message);

/// <summary>Stable machine-readable error codes.</summary>
public static class ErrorCodes
{
    public const string BadRequest = "bad_request";
    public const string ValidationFailed = "validation_failed";
    public const string MalformedJson = "malformed_json";
    public const string UnknownField = "unknown_field";
    public const string InvalidType = "invalid_type";
    public const string BodyRequired = "body_required";
    public const string InvalidTraceId = "invalid_trace_id";
    public const string Unauthorized = "unauthorized";
    public const string InvalidToken = "invalid_token";
    public const string Forbidden = "forbidden";
    public const string InsufficientScope = "insufficient_scope";
    public const string NotFound = "not_found";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string Conflict = "conflict";
    public const string PreconditionFailed = "precondition_failed";
    public const string PayloadTooLarge = "payload_too_large";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string RateLimited = "rate_limited";
    public const string InternalError = "internal_error";
    public const string DatabaseUnavailable = "database_unavailable";

    /// <summary>The code used when only the status is known (bare 404s, 405s and the like).</summary>
    public static string ForStatus(int status) => status switch
    {
        StatusCodes.Status400BadRequest => BadRequest,
        StatusCodes.Status401Unauthorized => Unauthorized,
        StatusCodes.Status403Forbidden => Forbidden,
        StatusCodes.Status404NotFound => NotFound,
        StatusCodes.Status405MethodNotAllowed => MethodNotAllowed,
        StatusCodes.Status406NotAcceptable => "not_acceptable",
        StatusCodes.Status408RequestTimeout => "request_timeout",
        StatusCodes.Status409Conflict => Conflict,
        StatusCodes.Status411LengthRequired => "length_required",
        StatusCodes.Status412PreconditionFailed => PreconditionFailed,
        StatusCodes.Status413PayloadTooLarge => PayloadTooLarge,
        StatusCodes.Status414UriTooLong => "uri_too_long",
        StatusCodes.Status415UnsupportedMediaType => UnsupportedMediaType,
        StatusCodes.Status429TooManyRequests => RateLimited,
        StatusCodes.Status431RequestHeaderFieldsTooLarge => "request_headers_too_large",
        StatusCodes.Status503ServiceUnavailable => DatabaseUnavailable,
        >= 500 => InternalError,
        _ => BadRequest,
    };

    public static string MessageForStatus(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "Authentication is required.",
        StatusCodes.Status403Forbidden => "Access denied.",
        StatusCodes.Status404NotFound => "The requested resource does not exist.",
        StatusCodes.Status405MethodNotAllowed => "The method is not allowed for this resource.",
        StatusCodes.Status413PayloadTooLarge => $"The request body exceeds {RequestLimits.MaxBodyBytes / 1024} KiB.",
        StatusCodes.Status415UnsupportedMediaType => "The request body must be sent as application/json.",
        StatusCodes.Status429TooManyRequests => "Too many requests; retry after the time in the Retry-After header.",
        StatusCodes.Status503ServiceUnavailable => "The service is temporarily unavailable; retry shortly.",
        >= 500 => "An unexpected error occurred. Quote the request_id when reporting it.",
        _ => "The request could not be processed.",
    };
}
