using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.OpenApi;

/// <summary>One server and its OpenAPI document, shared by the tests of a class.</summary>
public sealed class OpenApiDocumentFixture : IAsyncLifetime
{
    private TestApp? _app;

    public TestApp App => _app ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>The document exactly as <c>GET /openapi/v1.json</c> answered it.</summary>
    public string Json { get; private set; } = "";

    public JsonObject Document { get; private set; } = [];

    public async Task InitializeAsync()
    {
        _app = await TestApp.StartAsync(DatabaseProvider.Sqlite);
        using var response = await _app.Client.GetAsync("/openapi/v1.json");
        Json = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET /openapi/v1.json: {(int)response.StatusCode} {Json}");
        Document = JsonNode.Parse(Json)!.AsObject();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>Reading an OpenAPI document as JSON: operations, <c>$ref</c>s, and checking a value against a schema.</summary>
public static class OpenApiJson
{
    public static readonly string[] Methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

    private static readonly JsonSerializerOptions Canonical = new()
    {
        WriteIndented = true,
        IndentSize = 2,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The JSON re-written in one canonical layout (members in their order, two-space indent, LF, final newline).</summary>
    public static string Normalize(string json) => JsonNode.Parse(json)!.ToJsonString(Canonical) + "\n";

    public static IEnumerable<(string Path, string Method, JsonObject Operation)> Operations(JsonObject document) =>
        from path in document["paths"]!.AsObject()
        from method in path.Value!.AsObject()
        where Methods.Contains(method.Key)
        select (path.Key, method.Key, method.Value!.AsObject());

    /// <summary>Follows <c>$ref</c> (local references only) until an object that is not a reference.</summary>
    public static JsonObject Resolve(JsonObject document, JsonObject node)
    {
        for (var hops = 0; node["$ref"] is JsonValue reference; hops++)
        {
            Assert.True(hops < 10, "Too many $ref hops.");
            node = Pointer(document, reference.GetValue<string>()) ?? throw new InvalidOperationException($"Unresolved {reference}");
        }

        return node;
    }

    /// <summary>The object a local JSON pointer (<c>#/components/...</c>) designates, or null.</summary>
    public static JsonObject? Pointer(JsonObject document, string reference)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            return null;
        }

        JsonNode? node = document;
        foreach (var segment in reference[2..].Split('/'))
        {
            node = node is JsonObject obj && obj.TryGetPropertyValue(segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal), out var next)
                ? next
                : null;
        }

        return node as JsonObject;
    }

    /// <summary>Every <c>$ref</c> value in the document.</summary>
    public static IEnumerable<string> References(JsonNode? node) => node switch
    {
        JsonObject obj => obj.SelectMany(p => p.Key == "$ref" && p.Value is JsonValue v ? [v.GetValue<string>()] : References(p.Value)),
        JsonArray array => array.SelectMany(References),
        _ => [],
    };

    public static IReadOnlySet<string> Types(JsonObject schema) => schema["type"] switch
    {
        JsonValue single => new HashSet<string> { single.GetValue<string>() },
        JsonArray many => many.Select(t => t!.GetValue<string>()).ToHashSet(),
        _ => new HashSet<string>(),
    };

    /// <summary>
    /// The problems of <paramref name="value"/> against <paramref name="schema"/>: the JSON Schema keywords
    /// this document uses (type, enum, required, properties, additionalProperties, items, min/max
    /// length and items, pattern, minimum, oneOf).
    /// </summary>
    public static List<string> Check(JsonObject document, JsonNode? value, JsonObject schema, string at)
    {
        var problems = new List<string>();
        schema = Resolve(document, schema);
        if (schema["oneOf"] is JsonArray oneOf)
        {
            if (!oneOf.Any(option => Check(document, value, option!.AsObject(), at).Count == 0))
            {
                problems.Add($"{at}: matches none of oneOf");
            }

            return problems;
        }

        var kind = value switch
        {
            null => "null",
            JsonObject => "object",
            JsonArray => "array",
            JsonValue v when v.GetValueKind() == JsonValueKind.String => "string",
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => "boolean",
            JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString().Contains('.', StringComparison.Ordinal) ? "number" : "integer",
            _ => "unknown",
        };
        var types = Types(schema);
        if (types.Count > 0 && !types.Contains(kind) && !(kind == "integer" && types.Contains("number")))
        {
            problems.Add($"{at}: {kind}, expected {string.Join("|", types)}");
            return problems;
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(a => JsonNode.DeepEquals(a, value)))
        {
            problems.Add($"{at}: {value?.ToJsonString()} is not one of {allowed.ToJsonString()}");
        }

        switch (value)
        {
            case JsonObject obj:
                var properties = schema["properties"]?.AsObject() ?? [];
                foreach (var name in schema["required"]?.AsArray().Select(r => r!.GetValue<string>()) ?? [])
                {
                    if (!obj.ContainsKey(name))
                    {
                        problems.Add($"{at}: required '{name}' is missing");
                    }
                }

                foreach (var (name, member) in obj)
                {
                    if (properties[name] is JsonObject propertySchema)
                    {
                        problems.AddRange(Check(document, member, propertySchema, $"{at}.{name}"));
                    }
                    else if (schema["additionalProperties"] is JsonValue extra && !extra.GetValue<bool>())
                    {
                        problems.Add($"{at}: '{name}' is not a property of the schema");
                    }
                }

                break;
            case JsonArray array:
                if (schema["minItems"]?.GetValue<int>() is { } minItems && array.Count < minItems)
                {
                    problems.Add($"{at}: fewer than {minItems} items");
                }

                if (schema["maxItems"]?.GetValue<int>() is { } maxItems && array.Count > maxItems)
                {
                    problems.Add($"{at}: more than {maxItems} items");
                }

                if (schema["items"] is JsonObject items)
                {
                    for (var i = 0; i < array.Count; i++)
                    {
                        problems.AddRange(Check(document, array[i], items, $"{at}[{i}]"));
                    }
                }

                break;
            case JsonValue text when kind == "string":
                var s = text.GetValue<string>();
                if (schema["maxLength"]?.GetValue<int>() is { } maxLength && s.Length > maxLength)
                {
                    problems.Add($"{at}: longer than {maxLength}");
                }

                if (schema["minLength"]?.GetValue<int>() is { } minLength && s.Length < minLength)
                {
                    problems.Add($"{at}: shorter than {minLength}");
                }

                if (schema["pattern"]?.GetValue<string>() is { } pattern && !Regex.IsMatch(s, pattern, RegexOptions.None, TimeSpan.FromSeconds(1)))
                {
                    problems.Add($"{at}: '{s}' does not match {pattern}");
                }

                break;
            case JsonValue number when kind == "integer":
                if (schema["minimum"] is JsonValue minimum && number.GetValue<long>() < minimum.GetValue<long>())
                {
                    problems.Add($"{at}: below the minimum {minimum}");
                }

                break;
        }

        return problems;
    }
}
