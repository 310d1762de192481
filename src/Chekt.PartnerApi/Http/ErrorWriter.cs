namespace Chekt.PartnerApi.Http;

/// <summary>The one place that writes the error body.</summary>
public static class ErrorWriter
{
    public static Task WriteAsync(HttpContext context, ApiError error)
    {
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        foreach (var (name, value) in error.Headers)
        {
            response.Headers[name] = value;
        }

        var body = new ErrorEnvelope(new ErrorBody(error.Code, error.Message, TraceId.Get(context), error.Field, error.Details));
        // Written like every other answer, so an error body escapes characters the same way a success does.
        return JsonAnswers.WriteAsync(context, error.StatusCode, body);
    }
}
