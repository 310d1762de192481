namespace Chekt.PartnerApi.Http;

/// <summary>Registers and orders the cross-cutting HTTP behaviour shared by every route.</summary>
public static class HttpPipeline
{
    public static IServiceCollection AddPartnerHttp(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
        });
        return services;
    }

    public static IApplicationBuilder UsePartnerHttp(this IApplicationBuilder app)
    {
        app.UseMiddleware<TraceIdMiddleware>();
        app.UseMiddleware<ErrorHandlingMiddleware>();
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        return app;
    }
}
