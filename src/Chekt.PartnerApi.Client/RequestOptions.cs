namespace Chekt.PartnerApi.Client;

/// <summary>Per-call settings: trace id, idempotency key, <c>If-Match</c> and a token override.</summary>
public sealed class RequestOptions
{
    /// <summary>
    /// The <c>x-partner-trace-id</c> to send (at most 128 letters, digits or <c>-_.:/+=@</c>). When
    /// <see langword="null"/>, a new UUID is sent. The server logs it and returns it as
    /// <see cref="PartnerApiException.RequestId"/>; retries of the call send the same one.
    /// </summary>
    public string? TraceId { get; set; }

    /// <summary>
    /// The <c>Idempotency-Key</c> to send (1–255 visible ASCII characters). When <see langword="null"/>,
    /// every <c>POST</c>, <c>PUT</c>, <c>PATCH</c> and <c>DELETE</c> gets a new UUID, reused by the call's
    /// retries, so that a retry never applies a change twice. Set your own to make a call safe to repeat
    /// across process restarts: for 24 hours, repeating it returns the first answer.
    /// </summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>
    /// The <c>If-Match</c> to send on a write: the <c>ETag</c> of the resource as you read it (see
    /// <see cref="PartnerApiResource.ETag"/>). The write then fails with <c>412 precondition_failed</c>
    /// if somebody changed the resource meanwhile.
    /// </summary>
    public string? IfMatch { get; set; }

    /// <summary>
    /// An access token for this call only (such as a dealer admin's token for
    /// <see cref="DealersClient.ConnectAsync"/>), used instead of the client's credentials.
    /// </summary>
    public string? AccessToken { get; set; }
}
