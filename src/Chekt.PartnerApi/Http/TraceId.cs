using System.Diagnostics;

namespace Chekt.PartnerApi.Http;

/// <summary>
/// The <c>x-partner-trace-id</c> of a request (spec §7): taken from the request or generated,
/// echoed on the response, attached to every log line about the request and to error bodies.
/// </summary>
public static class TraceId
{
    public const string HeaderName = "x-partner-trace-id";
    public const int MaxLength = 128;

    /// <summary>The request's trace id: <see cref="TraceIdMiddleware"/> makes it the request's <see cref="HttpContext.TraceIdentifier"/>.</summary>
    public static string Get(HttpContext context) => context.TraceIdentifier;

    // Note: a trace id correlates an answer with log lines; it grants nothing and the client may choose its
    // own, so it comes from the process's fast generator. Guid.NewGuid reads the kernel's random source,
    // a system call on every request.
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40); // version 4 (random)
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(bytes, bigEndian: true).ToString();
    }

    // Note: the value is echoed into headers and logs, so only a conservative character set is
    // accepted; anything else would allow header or log injection.
    public static bool IsValid(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= MaxLength
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '/' or '+' or '=' or '@');
}

/// <summary>Outermost middleware: assigns the trace id, opens the logging scope and logs the request outcome.</summary>
public sealed partial class TraceIdMiddleware(RequestDelegate next, ILogger<TraceIdMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var supplied = context.Request.Headers[TraceId.HeaderName];
        var valid = supplied.Count == 0 || (supplied.Count == 1 && TraceId.IsValid(supplied[0]));
        var traceId = supplied.Count == 1 && valid ? supplied[0]! : TraceId.New();

        // Note: the id is kept as the request's TraceIdentifier alone (no feature of its own, no state tuple for the
        // callback): two allocations fewer on every request.
        context.TraceIdentifier = traceId;
        context.Response.OnStarting(static state =>
        {
            var http = (HttpContext)state;
            http.Response.Headers[TraceId.HeaderName] = http.TraceIdentifier;
            return Task.CompletedTask;
        }, context);

        using var scope = logger.BeginScope(new TraceScope(traceId));
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (!valid)
            {
                await ErrorWriter.WriteAsync(context, ApiError.BadRequest(
                    ErrorCodes.InvalidTraceId,
                    $"The {TraceId.HeaderName} header must be one value of at most {TraceId.MaxLength} letters, digits or -_.:/+=@ characters.",
                    TraceId.HeaderName));
                return;
            }

            await next(context);
        }
        finally
        {
            // Note: the path is logged without its query string, which may carry codes or state.
            LogRequest(logger, context.Request.Method, context.Request.Path.Value, context.Response.StatusCode,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    // Source-generated: no formatting or boxing when Information is off (as in the benchmark).
    [LoggerMessage(Level = LogLevel.Information, Message = "HTTP {Method} {Path} responded {StatusCode} in {ElapsedMs:0.0} ms")]
    private static partial void LogRequest(ILogger logger, string method, string? path, int statusCode, double elapsedMs);

    /// <summary>The log scope property holding the trace id (ASP.NET's own <c>TraceId</c> is the W3C activity id).</summary>
    public const string ScopeKey = "PartnerTraceId";

    /// <summary>Scope state rendered as a <c>PartnerTraceId</c> property by the simple and JSON console formatters.</summary>
    private sealed class TraceScope(string traceId) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 1;

        public KeyValuePair<string, object?> this[int index] =>
            index == 0 ? new(ScopeKey, traceId) : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"{ScopeKey}:{traceId}";
    }
}
