namespace Chekt.PartnerApi.Client.Http;

internal static class PartnerApiHeaders
{
    public const string TraceId = "x-partner-trace-id";
    public const string IdempotencyKey = "Idempotency-Key";
    public const string IfMatch = "If-Match";
}
