using Chekt.PartnerApi.Data;

namespace Chekt.PartnerApi.Http;

/// <summary>
/// Turns every exception into the error body: the database being unreachable is 503, a request
/// Kestrel rejected keeps its 4xx status, anything else is logged and answered with a generic 500.
/// A bare error status (no route: 404, wrong method: 405, any 4xx or 5xx answered without a body) gets the
/// error body too.
/// </summary>
public sealed class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
            // Note: what UseStatusCodePages did, without the feature and the dictionary it allocated on every request.
            if (IsBareError(context.Response))
            {
                await ErrorWriter.WriteAsync(context, ApiError.ForStatus(context.Response.StatusCode));
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
            logger.LogDebug("Request aborted by the client");
        }
        catch (Exception exception)
        {
            var error = Classify(exception);
            if (context.Response.HasStarted)
            {
                logger.LogError(exception, "Request failed after the response had started");
                context.Abort();
                return;
            }

            if (error.StatusCode >= 500)
            {
                if (error.StatusCode == StatusCodes.Status503ServiceUnavailable)
                {
                    logger.LogWarning("Database unavailable: {Reason}", exception.GetBaseException().Message);
                }
                else
                {
                    logger.LogError(exception, "Unhandled exception");
                }
            }

            context.Response.Clear();
            await ErrorWriter.WriteAsync(context, error);
        }
    }

    private static bool IsBareError(HttpResponse response) =>
        !response.HasStarted && response.StatusCode is >= 400 and < 600
        && response.ContentLength is null && string.IsNullOrEmpty(response.ContentType);

    private static ApiError Classify(Exception exception)
    {
        if (exception is BadHttpRequestException badRequest)
        {
            return ApiError.ForStatus(badRequest.StatusCode);
        }

        if (DbErrors.IsUnavailable(exception))
        {
            var unavailable = ApiError.ForStatus(StatusCodes.Status503ServiceUnavailable);
            unavailable.Headers["Retry-After"] = "5";
            return unavailable;
        }

        return ApiError.ForStatus(StatusCodes.Status500InternalServerError);
    }
}

/// <summary>Refuses a declared body over the limit before anything reads it, and caps undeclared (chunked) ones.</summary>
public sealed class RequestBodyLimitMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength > RequestLimits.MaxBodyBytes)
        {
            return ErrorWriter.WriteAsync(context, ApiError.ForStatus(StatusCodes.Status413PayloadTooLarge));
        }

        var sizeFeature = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = RequestLimits.MaxBodyBytes;
        }

        return next(context);
    }
}
