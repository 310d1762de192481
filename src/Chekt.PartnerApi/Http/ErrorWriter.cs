namespace Chekt.PartnerApi.Http;

/// <summary>The one place that writes the error body.</summary>
public static class ErrorWriter
{
    public static async Task WriteAsync(HttpContext context, ApiError error)
    {
        var response = context.Response;
        response.StatusCode = error.StatusCode;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        foreach (var (name, value) in error.Headers)
        {
            response.Headers[name] = value;
        }

        var body = new ErrorEnvelope(new ErrorBody(error.Code, error.Message, TraceId.Get(context), error.Field, error.Details));
        await response.WriteAsJsonAsync(body, ApiJsonContext.Default.ErrorEnvelope, contentType: response.ContentType, context.RequestAborted);
    }
}
