using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Chekt.PartnerApi.Health;

public sealed record HealthStatus(string Status);

/// <summary>Liveness (<c>/healthz</c>) and readiness (<c>/readyz</c>, database reachable) probes.</summary>
public static class HealthEndpoints
{
    private static readonly TimeSpan ReadinessTimeout = TimeSpan.FromSeconds(3);

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Health").ExcludeFromDescription();
        group.MapGet("/healthz", Live).WithName("Healthz");
        group.MapGet("/readyz", Ready).WithName("Readyz");
        return app;
    }

    private static JsonOk<HealthStatus> Live() => JsonAnswers.Ok(new HealthStatus("ok"));

    private static async Task<Results<JsonOk<HealthStatus>, ApiError>> Ready(Db db, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadinessTimeout);
        var ping = db.PingAsync(timeout.Token);
        try
        {
            // Note: the answer comes within the timeout even when the database accepts the query and never answers
            // (a hung server): a statement already sent is not interrupted by the cancellation, only by its command
            // timeout, which is much longer. The ping is then left to end by itself.
            await ping.WaitAsync(ReadinessTimeout, cancellationToken);
            return JsonAnswers.Ok(new HealthStatus("ready"));
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            _ = ping.ContinueWith(static abandoned => abandoned.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            loggers.CreateLogger(typeof(HealthEndpoints)).LogWarning("Readiness check failed: {Reason}", exception.GetBaseException().Message);
            var error = ApiError.ForStatus(StatusCodes.Status503ServiceUnavailable);
            error.Headers["Retry-After"] = "5";
            return error;
        }
    }
}
