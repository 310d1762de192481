namespace Chekt.PartnerApi.Http;

/// <summary>Writes an <see cref="ApiError"/>: the API's error body, or RFC 6749's under <c>/oauth/</c>.</summary>
public static class ErrorWriter
{
    private static readonly PathString OAuthPaths = new("/oauth");

    public static Task WriteAsync(HttpContext context, ApiError error)
    {
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        foreach (var (name, value) in error.Headers)
        {
            response.Headers[name] = value;
        }

        // Note: spec §7: the OAuth endpoints answer every error, including those no endpoint of theirs wrote (405, 413,
        // 503, 500), with RFC 6749's body, which OAuth client libraries parse.
        if (context.Request.Path.StartsWithSegments(OAuthPaths, StringComparison.OrdinalIgnoreCase))
        {
            response.StatusCode = error.StatusCode;
            Auth.OAuthError.NoStore(response);
            return response.WriteAsJsonAsync(new Auth.OAuthErrorBody(OAuthCode(error.StatusCode), error.Message),
                Auth.AuthJsonContext.Default.OAuthErrorBody, cancellationToken: context.RequestAborted);
        }

        var body = new ErrorEnvelope(new ErrorBody(error.Code, error.Message, TraceId.Get(context), error.Field, error.Details));
        // Written like every other answer, so an error body escapes characters the same way a success does.
        return JsonAnswers.WriteAsync(context, error.StatusCode, body);
    }

    private static string OAuthCode(int status) => status switch
    {
        StatusCodes.Status429TooManyRequests => "rate_limited",
        StatusCodes.Status503ServiceUnavailable => "temporarily_unavailable",
        >= 500 => Auth.OAuthErrors.ServerError,
        _ => Auth.OAuthErrors.InvalidRequest,
    };
}
