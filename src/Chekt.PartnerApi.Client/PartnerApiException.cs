using System.Net;
using System.Text.Json;

namespace Chekt.PartnerApi.Client;

/// <summary>
/// An error answered by the Partner API, carrying the fields of its error body
/// (<c>{"error":{"code","message","request_id","field","details"}}</c>).
/// </summary>
public sealed class PartnerApiException : Exception
{
    /// <summary>Creates the exception from the parts of an error answer.</summary>
    public PartnerApiException(HttpStatusCode statusCode, string code, string message, string? field, string? requestId)
        : base(message)
    {
        StatusCode = statusCode;
        Code = code;
        Field = field;
        RequestId = requestId;
    }

    /// <summary>The HTTP status of the answer.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The stable, machine-readable error code, such as <c>validation_failed</c> or <c>dealer_not_found</c>.</summary>
    public string Code { get; }

    /// <summary>The request field the error is about, when it is about one.</summary>
    public string? Field { get; }

    /// <summary>The request's trace id (<c>x-partner-trace-id</c>); quote it when reporting a problem.</summary>
    public string? RequestId { get; }

    /// <summary>Reads an unsuccessful response into an exception; bodies that are not the API's error shape keep their status.</summary>
    public static async Task<PartnerApiException> FromResponseAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        var requestId = response.Headers.TryGetValues("x-partner-trace-id", out var values) ? values.FirstOrDefault() : null;
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                return new PartnerApiException(
                    response.StatusCode,
                    StringOrNull(error, "code") ?? "unknown_error",
                    StringOrNull(error, "message") ?? response.ReasonPhrase ?? "The request failed.",
                    StringOrNull(error, "field"),
                    StringOrNull(error, "request_id") ?? requestId);
            }
        }
        catch (JsonException)
        {
            // Not the API's error body (a proxy's page, for example): keep what the status tells.
        }

        return new PartnerApiException(response.StatusCode, "http_" + (int)response.StatusCode, response.ReasonPhrase ?? "The request failed.", null, requestId);
    }

    private static string? StringOrNull(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
