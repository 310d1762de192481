using System.Buffers;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Metadata;

namespace Chekt.PartnerApi.Http;

/// <summary>
/// The JSON answers of the API, successes and errors (<see cref="ErrorWriter"/>): a status and a body,
/// written in one piece with a <c>Content-Length</c>. They take the place of <c>TypedResults.Ok</c> and
/// <c>TypedResults.Created</c>, which look up the JSON options and a logger from the request's services
/// and serialise asynchronously in chunks on every request, a measurable share of a GET.
/// </summary>
public static class JsonAnswers
{
    public static JsonOk<T> Ok<T>(T value) => new(value);

    public static JsonCreated<T> Created<T>(string location, T value) => new(location, value);

    internal static Task WriteAsync<T>(HttpContext context, int statusCode, T value)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = "application/json; charset=utf-8";

        // Note: the writer and its buffer are per thread and are done with before the first await:
        // the bytes are copied into the response's pipe before anything can suspend.
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            // The same escaping as ASP.NET Core's JSON options for HTTP answers, so a body reads the same
            // whichever way it was written (JsonAnswersTests compares them).
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            SkipValidation = true,
        });
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, value, TypeInfoOf<T>.Value);
        writer.Flush();

        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        if (buffer.Capacity > MaxRetainedBufferBytes)
        {
            // A large list should not pin its buffer to the thread for ever.
            t_buffer = null;
            t_writer = null;
        }

        var flush = response.BodyWriter.FlushAsync(context.RequestAborted);
        return flush.IsCompletedSuccessfully ? Task.CompletedTask : flush.AsTask();
    }

    private const int MaxRetainedBufferBytes = 256 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private static class TypeInfoOf<T>
    {
        public static readonly JsonTypeInfo<T> Value = (JsonTypeInfo<T>)(ApiJsonContext.Default.GetTypeInfo(typeof(T))
            ?? throw new InvalidOperationException($"{typeof(T)} is not registered in {nameof(ApiJsonContext)}."));
    }
}

/// <summary>200 with a JSON body.</summary>
public sealed class JsonOk<T>(T value) : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<T>, IEndpointMetadataProvider
{
    public T Value { get; } = value;

    public int StatusCode => StatusCodes.Status200OK;

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    object? IValueHttpResult.Value => Value;

    public Task ExecuteAsync(HttpContext httpContext) => JsonAnswers.WriteAsync(httpContext, StatusCode, Value);

    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(T), ["application/json"]));
}

/// <summary>201 with a <c>Location</c> and a JSON body.</summary>
public sealed class JsonCreated<T>(string location, T value) : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<T>, IEndpointMetadataProvider
{
    public string Location { get; } = location;

    public T Value { get; } = value;

    public int StatusCode => StatusCodes.Status201Created;

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    object? IValueHttpResult.Value => Value;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.Headers.Location = Location;
        return JsonAnswers.WriteAsync(httpContext, StatusCode, Value);
    }

    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status201Created, typeof(T), ["application/json"]));
}
