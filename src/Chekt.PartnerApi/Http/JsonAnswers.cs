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

    /// <summary>
    /// 200 with a body of <typeparamref name="T"/> written beforehand by a writer with <see cref="WriterOptions"/>;
    /// the buffer goes back to its pool once the body is copied into the response.
    /// </summary>
    internal static WrittenJsonOk<T> OkWritten<T>(PooledBufferWriter json) => new(json);

    /// <summary>
    /// The options of every answer's writer: the same escaping as ASP.NET Core's JSON options for HTTP answers,
    /// so a body reads the same whichever way it was written (JsonAnswersTests compares them).
    /// </summary>
    internal static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    internal static Task WriteAsync<T>(HttpContext context, int statusCode, T value)
    {
        // Note: the writer and its buffer are per thread and are done with before the first await:
        // the bytes are copied into the response's pipe before anything can suspend.
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, value, TypeInfoOf<T>.Value);
        writer.Flush();

        var written = WriteAsync(context, statusCode, buffer.WrittenSpan);
        if (buffer.Capacity > MaxRetainedBufferBytes)
        {
            // A large list should not pin its buffer to the thread for ever.
            t_buffer = null;
            t_writer = null;
        }

        return written;
    }

    internal static Task WriteAsync(HttpContext context, int statusCode, ReadOnlySpan<byte> json)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = json.Length;
        response.BodyWriter.Write(json);
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

/// <summary>
/// 200 with a JSON body of <typeparamref name="T"/> that was written before the answer, by a writer with
/// <see cref="JsonAnswers.WriterOptions"/> (as a page of contacts is, straight from its rows).
/// </summary>
public sealed class WrittenJsonOk<T> : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    private readonly PooledBufferWriter _json;

    internal WrittenJsonOk(PooledBufferWriter json) => _json = json;

    public int StatusCode => StatusCodes.Status200OK;

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        // The bytes are copied into the response's pipe before the write can suspend, so the buffer is free then.
        using (_json)
        {
            return JsonAnswers.WriteAsync(httpContext, StatusCode, _json.WrittenMemory.Span);
        }
    }

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
