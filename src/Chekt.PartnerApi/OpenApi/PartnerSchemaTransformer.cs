using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Chekt.PartnerApi.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Chekt.PartnerApi.OpenApi;

/// <summary>
/// Makes the schemas say what the API really does:
/// <list type="bullet">
/// <item>numbers are JSON integers (the generator also allows numeric strings, which the API refuses);</item>
/// <item>response objects: every field is always present (<c>required</c>), nullable where the C# type is,
/// except fields written only when not null (<c>JsonIgnoreCondition.WhenWritingNull</c>);</item>
/// <item>request objects (the types of <see cref="JsonRequestBody"/> metadata): only <c>[Required]</c> fields are
/// required; a field is nullable (null clears it) unless it is required or <see cref="NonNullableAttribute"/>;
/// non-null strings may not be blank; unknown fields are refused (<c>additionalProperties: false</c>);</item>
/// <item>formats: <c>*_at</c> date-time, <c>*_id</c> integers positive, <c>[EmailAddress]</c> email,
/// <c>[AllowedValues]</c> an enum.</item>
/// </list>
/// </summary>
internal sealed class PartnerSchemaTransformer : IOpenApiSchemaTransformer
{
    // What the generator emits for integers when numbers may be read from strings.
    private const string NumericStringPattern = "^-?(?:0|[1-9]\\d*)$";

    // Microsoft.AspNetCore.OpenApi's mark on a property schema that it writes as oneOf [null, $ref].
    private const string NullableReferenceKey = "x-is-nullable-property";

    // The error body's types (Http/ErrorBody.cs) carry no consumer-facing docs of their own; these are theirs (docs/errors.md).
    private static readonly Dictionary<(Type Type, string? Property), string> ErrorDescriptions = new()
    {
        [(typeof(ErrorEnvelope), null)] = "The body of every error answer of the partner API; all members are always present.",
        [(typeof(ErrorBody), "code")] = "Stable, machine-readable snake_case code, such as `validation_failed`.",
        [(typeof(ErrorBody), "message")] = "What went wrong, for people; may change.",
        [(typeof(ErrorBody), "request_id")] = "The request's `x-partner-trace-id` (yours, or the one generated); quote it when reporting a problem.",
        [(typeof(ErrorBody), "field")] = "The request field, query parameter or header at fault, else null.",
        [(typeof(ErrorBody), "details")] = "Every field problem found (empty when the error is not about fields).",
        [(typeof(ErrorDetail), "field")] = "The field at fault.",
        [(typeof(ErrorDetail), "message")] = "What is wrong with it.",
    };

    private IReadOnlySet<Type>? _requestTypes;

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        IntegerOnly(schema);
        var typeInfo = context.JsonTypeInfo;
        if (typeInfo.Kind != JsonTypeInfoKind.Object || schema.Properties is not { Count: > 0 }
            || typeInfo.Type.Namespace?.StartsWith("Chekt.PartnerApi", StringComparison.Ordinal) != true)
        {
            return Task.CompletedTask;
        }

        var isRequest = RequestTypes(context.ApplicationServices).Contains(typeInfo.Type);
        var required = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in typeInfo.Properties)
        {
            if (!schema.Properties.TryGetValue(property.Name, out var propertySchema))
            {
                continue;
            }

            var attributes = Attributes(typeInfo.Type, property);
            if (propertySchema is OpenApiSchema inline)
            {
                IntegerOnly(inline);
                Formats(property.Name, inline, attributes);
                if (ErrorDescriptions.TryGetValue((typeInfo.Type, property.Name), out var description))
                {
                    inline.Description = description;
                }
            }

            if (isRequest)
            {
                var isRequired = attributes.OfType<RequiredAttribute>().Any();
                var nullable = !isRequired && !attributes.OfType<NonNullableAttribute>().Any();
                if (isRequired)
                {
                    required.Add(property.Name);
                }

                schema.Properties[property.Name] = Nullable(propertySchema, nullable);
                if (!nullable && propertySchema is OpenApiSchema { Type: JsonSchemaType.String } text)
                {
                    text.MinLength ??= 1;
                }
            }
            else if (attributes.OfType<JsonIgnoreAttribute>().Any(a => a.Condition == JsonIgnoreCondition.WhenWritingNull))
            {
                // Written only when it has a value: optional, and never null.
                schema.Properties[property.Name] = Nullable(propertySchema, nullable: false);
            }
            else
            {
                required.Add(property.Name);
            }
        }

        schema.Required = required;
        if (isRequest)
        {
            schema.AdditionalPropertiesAllowed = false;
        }

        if (ErrorDescriptions.TryGetValue((typeInfo.Type, null), out var typeDescription))
        {
            schema.Description = typeDescription;
        }

        if (typeInfo.Type == typeof(ErrorEnvelope))
        {
            schema.Examples = [JsonNode.Parse(ApiExamples.Error)!];
        }

        return Task.CompletedTask;
    }

    private static void IntegerOnly(OpenApiSchema schema)
    {
        if (schema.Type is { } type && type.HasFlag(JsonSchemaType.Integer) && type.HasFlag(JsonSchemaType.String) && schema.Pattern == NumericStringPattern)
        {
            schema.Type = type & ~JsonSchemaType.String;
            schema.Pattern = null;
        }
    }

    private static void Formats(string name, OpenApiSchema schema, IReadOnlyList<Attribute> attributes)
    {
        var type = schema.Type ?? 0;
        if (type.HasFlag(JsonSchemaType.String) && name.EndsWith("_at", StringComparison.Ordinal))
        {
            schema.Format ??= "date-time";
        }

        if (type.HasFlag(JsonSchemaType.Integer) && name.EndsWith("_id", StringComparison.Ordinal))
        {
            schema.Minimum ??= "1";
        }

        if (attributes.OfType<EmailAddressAttribute>().Any())
        {
            schema.Format = "email";
        }

        if (attributes.OfType<AllowedValuesAttribute>().FirstOrDefault() is { } allowed)
        {
            schema.Enum = [.. allowed.Values.Select(value => value switch
            {
                string text => JsonValue.Create(text),
                int number => JsonValue.Create(number),
                long number => (JsonNode)JsonValue.Create(number),
                _ => throw new InvalidOperationException($"[AllowedValues] of '{name}': only strings and integers are documented."),
            })];
        }
    }

    /// <summary>The schema with JSON null allowed or not (a nullable reference is <c>oneOf: [null, $ref]</c>).</summary>
    private static IOpenApiSchema Nullable(IOpenApiSchema schema, bool nullable)
    {
        switch (schema)
        {
            case OpenApiSchema { Type: JsonSchemaType.Object } reference when !nullable && reference.Metadata?.ContainsKey(NullableReferenceKey) == true:
                // An object that becomes a $ref: the generator writes oneOf [null, $ref] for it when this mark is set.
                reference.Metadata.Remove(NullableReferenceKey);
                return reference;
            case OpenApiSchema { Type: { } type } inline:
                inline.Type = nullable ? type | JsonSchemaType.Null : type & ~JsonSchemaType.Null;
                return inline;
            case OpenApiSchema { OneOf: { Count: 2 } oneOf } when !nullable && oneOf.Any(IsNull):
                return oneOf.First(s => !IsNull(s));
            default:
                return schema;
        }

        static bool IsNull(IOpenApiSchema s) => s is OpenApiSchema { Type: JsonSchemaType.Null };
    }

    private static List<Attribute> Attributes(Type declaringType, JsonPropertyInfo property)
    {
        // Source-generated metadata may not carry the member; find it by its JSON (snake_case) name then.
        var member = property.AttributeProvider as MemberInfo
            ?? declaringType.GetProperties().FirstOrDefault(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name) == property.Name);
        return member is null ? [] : [.. member.GetCustomAttributes(inherit: true).OfType<Attribute>()];
    }

    private IReadOnlySet<Type> RequestTypes(IServiceProvider services) =>
        _requestTypes ??= services.GetRequiredService<EndpointDataSource>().Endpoints
            .SelectMany(endpoint => endpoint.Metadata.GetOrderedMetadata<JsonRequestBody>())
            .SelectMany(body => AndItemTypes(body.Type))
            .ToHashSet();

    /// <summary>The type, and the item type of an array or list body.</summary>
    private static IEnumerable<Type> AndItemTypes(Type type)
    {
        yield return type;
        if (type.IsArray)
        {
            yield return type.GetElementType()!;
        }
        else if (type.IsGenericType)
        {
            foreach (var argument in type.GetGenericArguments())
            {
                yield return argument;
            }
        }
    }
}
