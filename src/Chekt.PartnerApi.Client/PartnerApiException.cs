using System.Net;
using System.Text.Json;

namespace Chekt.PartnerApi.Client;

/// <summary>
/// An error answered by the Partner API, carrying the fields of its error body
/// (<c>{"error":{"code","message","request_id","field","details"}}</c>). Errors of the token endpoint
/// (RFC 6749 bodies such as <c>{"error":"invalid_client"}</c>) are reported with the same type, their
/// <c>error</c> as <see cref="Code"/>.
/// </summary>
/// <remarks>
/// Failures to reach the server at all (DNS, refused connections, resets) surface as
/// <see cref="HttpRequestException"/> once the retries are spent; a time-out as <see cref="TaskCanceledException"/>.
/// </remarks>
public sealed class PartnerApiException : Exception
{
    /// <summary>Creates the exception from the parts of an error answer.</summary>
    /// <param name="statusCode">The HTTP status of the answer.</param>
    /// <param name="code">The error code.</param>
    /// <param name="message">The human-readable message.</param>
    /// <param name="field">The request field the error is about, if any.</param>
    /// <param name="requestId">The request's trace id, if known.</param>
    public PartnerApiException(HttpStatusCode statusCode, string code, string message, string? field, string? requestId)
        : this(statusCode, code, message, field, requestId, [], null)
    {
    }

    /// <summary>Creates the exception from the parts of an error answer, with its field details and <c>Retry-After</c>.</summary>
    /// <param name="statusCode">The HTTP status of the answer.</param>
    /// <param name="code">The error code.</param>
    /// <param name="message">The human-readable message.</param>
    /// <param name="field">The request field the error is about, if any.</param>
    /// <param name="requestId">The request's trace id, if known.</param>
    /// <param name="details">Every field problem the server listed.</param>
    /// <param name="retryAfter">How long the server asked to wait before retrying, if it said.</param>
    public PartnerApiException(
        HttpStatusCode statusCode, string code, string message, string? field, string? requestId,
        IReadOnlyList<PartnerApiErrorDetail> details, TimeSpan? retryAfter)
        : base(message)
    {
        StatusCode = statusCode;
        Code = code;
        Field = field;
        RequestId = requestId;
        Details = details ?? [];
        RetryAfter = retryAfter;
    }

    /// <summary>A new exception for the same answer, for another caller to throw (an exception object is thrown by one caller at a time).</summary>
    internal PartnerApiException Copy() => new(StatusCode, Code, Message, Field, RequestId, Details, RetryAfter);

    /// <summary>The HTTP status of the answer.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The stable, machine-readable error code, such as <c>validation_failed</c> or <c>dealer_not_found</c>.</summary>
    public string Code { get; }

    /// <summary>The request field the error is about, when it is about one.</summary>
    public string? Field { get; }

    /// <summary>The request's trace id (<c>x-partner-trace-id</c>); quote it when reporting a problem.</summary>
    public string? RequestId { get; }

    /// <summary>Every field problem found in the request (empty when the error is not about fields).</summary>
    public IReadOnlyList<PartnerApiErrorDetail> Details { get; }

    /// <summary>How long the server asked to wait before retrying (<c>Retry-After</c> of a 429, a 503, or a 409 of a request still running), when it said.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Reads an unsuccessful response into an exception; bodies that are not the API's error shape keep their status.</summary>
    /// <param name="response">The unsuccessful response.</param>
    /// <param name="cancellationToken">Cancels reading the body.</param>
    public static async Task<PartnerApiException> FromResponseAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        var requestId = response.Headers.TryGetValues("x-partner-trace-id", out var values) ? values.FirstOrDefault() : null;
        var retryAfter = Http.RetryAfterHeader.Read(response, TimeProvider.System);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.Object)
                {
                    return new PartnerApiException(
                        response.StatusCode,
                        StringOrNull(error, "code") ?? "unknown_error",
                        StringOrNull(error, "message") ?? response.ReasonPhrase ?? "The request failed.",
                        StringOrNull(error, "field"),
                        StringOrNull(error, "request_id") ?? requestId,
                        ReadDetails(error),
                        retryAfter);
                }

                if (error.ValueKind == JsonValueKind.String)
                {
                    // RFC 6749 §5.2, the token endpoint's error body.
                    return new PartnerApiException(
                        response.StatusCode,
                        error.GetString()!,
                        StringOrNull(root, "error_description") ?? response.ReasonPhrase ?? "The token request failed.",
                        null,
                        requestId,
                        [],
                        retryAfter);
                }
            }
        }
        catch (JsonException)
        {
            // Not the API's error body (a proxy's page, for example): keep what the status tells.
        }

        return new PartnerApiException(
            response.StatusCode, "http_" + (int)response.StatusCode, response.ReasonPhrase ?? "The request failed.", null, requestId, [], retryAfter);
    }

    private static List<PartnerApiErrorDetail> ReadDetails(JsonElement error)
    {
        var details = new List<PartnerApiErrorDetail>();
        if (error.TryGetProperty("details", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in list.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object)
                {
                    details.Add(new PartnerApiErrorDetail(StringOrNull(item, "field"), StringOrNull(item, "message") ?? ""));
                }
            }
        }

        return details;
    }

    private static string? StringOrNull(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

/// <summary>One problem of a request, as listed in the error body's <c>details</c>.</summary>
/// <param name="Field">The field at fault (or header), if any.</param>
/// <param name="Message">What is wrong with it.</param>
public sealed record PartnerApiErrorDetail(string? Field, string Message);
