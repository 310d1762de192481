using System.Text.Json.Serialization;
using Chekt.PartnerApi.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Chekt.PartnerApi.Tests.Infrastructure;

public sealed record ProbeBody(string? Name, long? Count, bool? Active);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ProbeBody))]
public sealed partial class ProbeJsonContext : JsonSerializerContext;

/// <summary>
/// Adds two routes behind the server's real middleware: <c>POST /__probe/json</c> reads its body
/// with the server's JSON reader and echoes it; <c>/__probe/throw</c> throws.
/// </summary>
public sealed class JsonProbe : IStartupFilter
{
    public const string SecretExceptionText = "connection string Password=hunter2 leaked";

    public static void Add(IWebHostBuilder builder) =>
        builder.ConfigureServices(services => services.AddSingleton<IStartupFilter, JsonProbe>());

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        next(app);
        app.Run(async context =>
        {
            if (context.Request.Path == "/__probe/json")
            {
                var read = await JsonBody.ReadObjectAsync(context.Request, ProbeJsonContext.Default.ProbeBody, context.RequestAborted);
                if (read.Error is { } error)
                {
                    await error.ExecuteAsync(context);
                    return;
                }

                await context.Response.WriteAsJsonAsync(
                    new { value = read.Body!.Value, present = read.Body.Present.Order().ToArray() }, context.RequestAborted);
                return;
            }

            if (context.Request.Path == "/__probe/throw")
            {
                throw new InvalidOperationException(SecretExceptionText);
            }

            context.Response.StatusCode = StatusCodes.Status404NotFound;
        });
    };
}
