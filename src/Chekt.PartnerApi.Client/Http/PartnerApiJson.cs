using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Chekt.PartnerApi.Client.Http;

/// <summary>The wire format: snake_case names, absent optionals left out, nulls of create requests left out.</summary>
internal static class PartnerApiJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            // Create requests leave unset optional fields out; update requests use Optional<T>, which is never null itself.
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            // Bodies go to the API, never into HTML, so "+1 555" stays readable instead of "\u002B1 555".
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { LeaveOutAbsentOptionals } },
        };
        options.Converters.Add(new OptionalConverterFactory());
        options.MakeReadOnly();
        return options;
    }

    private static void LeaveOutAbsentOptionals(JsonTypeInfo type)
    {
        foreach (var property in type.Properties)
        {
            if (property.PropertyType.IsGenericType && property.PropertyType.GetGenericTypeDefinition() == typeof(Optional<>))
            {
                var hasValue = property.PropertyType.GetProperty(nameof(Optional<int>.HasValue))!;
                property.ShouldSerialize = (_, value) => value is not null && (bool)hasValue.GetValue(value)!;
            }
        }
    }

    private sealed class OptionalConverterFactory : JsonConverterFactory
    {
        public override bool CanConvert(Type typeToConvert) =>
            typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(Optional<>);

        public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
            (JsonConverter)Activator.CreateInstance(typeof(OptionalConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;
    }

    private sealed class OptionalConverter<T> : JsonConverter<Optional<T>>
    {
        // Called for JSON null too, so that a null in the body becomes a present null.
        public override bool HandleNull => true;

        public override Optional<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            new(JsonSerializer.Deserialize<T>(ref reader, options)!);

        public override void Write(Utf8JsonWriter writer, Optional<T> value, JsonSerializerOptions options)
        {
            if (value.TryGetValue(out var present))
            {
                JsonSerializer.Serialize(writer, present, options);
            }
            else
            {
                writer.WriteNullValue(); // not reached: absent properties are left out
            }
        }
    }
}

/// <summary>The API's <c>0</c>/<c>1</c> flags (such as <c>is_activated</c>) as booleans.</summary>
internal sealed class ZeroOneBooleanConverter : JsonConverter<bool>
{
    public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        JsonTokenType.Number => reader.GetInt64() != 0,
        _ => throw new JsonException("Expected 0 or 1."),
    };

    public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options) => writer.WriteNumberValue(value ? 1 : 0);
}
