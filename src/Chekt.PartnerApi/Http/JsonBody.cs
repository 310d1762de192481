using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using Microsoft.Net.Http.Headers;

namespace Chekt.PartnerApi.Http;

/// <summary>A parsed JSON object body, with the set of fields that were present (absent ≠ null).</summary>
public sealed class JsonBody<T>(T value, IReadOnlySet<string> present)
{
    public T Value { get; } = value;

    public IReadOnlySet<string> Present { get; } = present;

    public bool Has(string field) => Present.Contains(field);
}

/// <summary>The result of reading a body: either a value or the error to answer with.</summary>
public readonly record struct JsonBodyResult<T>(JsonBody<T>? Body, ApiError? Error);

/// <summary>
/// Reads request bodies strictly: JSON content type (415), size limit (413), valid UTF-8, well-formed
/// JSON without duplicate keys and within the depth limit, no unknown fields and the right JSON
/// type for every field (400 naming the field).
/// </summary>
public static class JsonBody
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = RequestLimits.MaxJsonDepth,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowDuplicateProperties = false,
    };

    // A request type's fields by JSON name, built once per type rather than on every request.
    private static readonly ConditionalWeakTable<JsonTypeInfo, Dictionary<string, JsonPropertyInfo>> PropertiesByName = new();

    public static async Task<JsonBodyResult<T>> ReadObjectAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        var (document, error) = await ReadDocumentAsync(request, cancellationToken);
        if (error is not null)
        {
            return new(null, error);
        }

        using (document)
        {
            return Bind(document!.RootElement, typeInfo, "");
        }
    }

    /// <summary>Binds one JSON object to <typeparamref name="T"/>; <paramref name="pathPrefix"/> prefixes field names (array items).</summary>
    public static JsonBodyResult<T> Bind<T>(JsonElement element, JsonTypeInfo<T> typeInfo, string pathPrefix)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return new(null, ApiError.BadRequest(ErrorCodes.InvalidType,
                pathPrefix.Length == 0 ? "The request body must be a JSON object." : $"'{pathPrefix.TrimEnd('.')}' must be a JSON object.",
                pathPrefix.Length == 0 ? null : pathPrefix.TrimEnd('.')));
        }

        var properties = PropertiesByName.GetValue(typeInfo, static info => info.Properties.ToDictionary(p => p.Name, StringComparer.Ordinal));
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var field = pathPrefix + property.Name;
            if (!properties.TryGetValue(property.Name, out var info))
            {
                return new(null, ApiError.BadRequest(ErrorCodes.UnknownField, $"Unknown field '{field}'.", field));
            }

            if (TypeMismatch(property.Value, info.PropertyType) is { } expected)
            {
                return new(null, ApiError.BadRequest(ErrorCodes.InvalidType, $"Field '{field}' must be {expected}.", field));
            }

            if (property.Value.ValueKind == JsonValueKind.String && !IsStorableText(property.Value))
            {
                return new(null, ApiError.Validation(field, $"Field '{field}' contains a NUL character or an unpaired UTF-16 surrogate."));
            }

            present.Add(property.Name);
        }

        try
        {
            var value = element.Deserialize(typeInfo)!;
            return new(new JsonBody<T>(value, present), null);
        }
        catch (JsonException exception)
        {
            var field = pathPrefix + (exception.Path ?? "$").TrimStart('$').TrimStart('.');
            return new(null, ApiError.BadRequest(ErrorCodes.InvalidType, $"Field '{field}' has the wrong JSON type.", field));
        }
    }

    /// <summary>Reads and parses the body; the caller disposes the document.</summary>
    public static async Task<(JsonDocument? Document, ApiError? Error)> ReadDocumentAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!IsJsonContentType(request.ContentType))
        {
            return (null, ApiError.ForStatus(StatusCodes.Status415UnsupportedMediaType));
        }

        var buffer = ArrayPool<byte>.Shared.Rent(RequestLimits.MaxBodyBytes + 1);
        try
        {
            var length = 0;
            int read;
            while (length <= RequestLimits.MaxBodyBytes
                && (read = await request.Body.ReadAsync(buffer.AsMemory(length, RequestLimits.MaxBodyBytes + 1 - length), cancellationToken)) > 0)
            {
                length += read;
            }

            if (length > RequestLimits.MaxBodyBytes)
            {
                return (null, ApiError.ForStatus(StatusCodes.Status413PayloadTooLarge));
            }

            var bytes = buffer.AsMemory(0, length);
            if (length == 0)
            {
                return (null, ApiError.BadRequest(ErrorCodes.BodyRequired, "A JSON request body is required."));
            }

            if (!Utf8.IsValid(bytes.Span))
            {
                return (null, ApiError.BadRequest(ErrorCodes.MalformedJson, "The request body is not valid UTF-8."));
            }

            try
            {
                // Note: JsonDocument keeps reading the memory it was parsed from, so it gets a copy of
                // its own: the pooled buffer goes back to the pool (and to other requests) below.
                return (JsonDocument.Parse(bytes.ToArray(), DocumentOptions), null);
            }
            catch (JsonException exception)
            {
                var where = exception.LineNumber is { } line
                    ? $" (line {line + 1}, byte {exception.BytePositionInLine + 1})"
                    : "";
                // Note: "depth" alone also appears in the reader's message for a body that ends inside an object or array.
                var problem = exception.Message.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase)
                    ? $"The request body is nested deeper than {RequestLimits.MaxJsonDepth} levels"
                    : exception.Message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase)
                        ? "The request body has a property that appears twice"
                        : "The request body is not well-formed JSON";
                return (null, ApiError.BadRequest(ErrorCodes.MalformedJson, $"{problem}{where}."));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static bool IsJsonContentType(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType))
        {
            return false;
        }

        var isJson = mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
        var charsetOk = !mediaType.Charset.HasValue
            || mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
            || mediaType.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);
        return isJson && charsetOk;
    }

    /// <summary>
    /// Note: JSON escapes can smuggle in U+0000 and unpaired surrogates (<c>"\u0000"</c>, <c>"\ud800"</c>),
    /// which are not text: PostgreSQL cannot store them and other systems mangle them, so they are refused.
    /// </summary>
    public static bool IsStorableText(JsonElement value)
    {
        // Without an escape the text is the document's own bytes: valid UTF-8 cannot encode a lone surrogate,
        // and a raw NUL is not JSON. The parser does not check the UTF-8 inside strings (request bodies are
        // checked whole when read), so it is checked here too, without making a string.
        var raw = JsonMarshal.GetRawUtf8Value(value);
        if (!raw.Contains((byte)'\\') && Utf8.IsValid(raw))
        {
            return true;
        }

        try
        {
            return IsStorableText(value.GetString()!);
        }
        catch (InvalidOperationException)
        {
            return false; // an escape that does not decode to valid UTF-16, such as a lone "\ud800"
        }
    }

    public static bool IsStorableText(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0')
            {
                return false;
            }

            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The expected JSON type, described for the error message, when <paramref name="value"/> does not fit.</summary>
    private static string? TypeMismatch(JsonElement value, Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        var nullable = underlying is not null || !type.IsValueType;
        var target = underlying ?? type;

        if (value.ValueKind == JsonValueKind.Null)
        {
            return nullable || target == typeof(JsonElement) ? null : Describe(target);
        }

        var fits = target switch
        {
            _ when target == typeof(string) => value.ValueKind == JsonValueKind.String,
            _ when target == typeof(long) => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
            _ when target == typeof(int) => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out _),
            _ when target == typeof(bool) => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            _ => true, // JsonElement and nested types are checked by the binder itself.
        };
        return fits ? null : Describe(target);
    }

    private static string Describe(Type type) => type switch
    {
        _ when type == typeof(string) => "a string",
        _ when type == typeof(long) => "an integer",
        _ when type == typeof(int) => "a 32-bit integer",
        _ when type == typeof(bool) => "a boolean",
        _ => "a value of another type",
    };
}
