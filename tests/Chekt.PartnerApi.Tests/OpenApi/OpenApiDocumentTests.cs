using System.Text.Json.Nodes;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace Chekt.PartnerApi.Tests.OpenApi;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c> (spec §8): in step with the committed
/// <c>docs/openapi.json</c>, complete (every endpoint of the server's endpoint table), and saying what
/// the API really does (required fields, scopes, headers).
/// </summary>
public sealed class OpenApiDocumentTests(OpenApiDocumentFixture fixture) : IClassFixture<OpenApiDocumentFixture>
{
    private const string UpdateVariable = "UPDATE_OPENAPI";
    private const string RegenerateHint =
        $"If the API change is intended, regenerate the committed copy and review its diff: "
        + $"cd tests/Chekt.PartnerApi.Tests && {UpdateVariable}=1 dotnet test --filter \"FullyQualifiedName~OpenApiDocumentTests\"";

    private JsonObject Document => fixture.Document;

    [Fact]
    public async Task CommittedDocumentIsTheOneTheServerGenerates()
    {
        var path = Path.Combine(RepositoryRoot(), "docs", "openapi.json");
        var generated = OpenApiJson.Normalize(fixture.Json);
        if (Environment.GetEnvironmentVariable(UpdateVariable) is "1" or "true")
        {
            await File.WriteAllTextAsync(path, generated);
            return;
        }

        Assert.True(File.Exists(path), $"{path} does not exist. {RegenerateHint}");
        var committed = OpenApiJson.Normalize(await File.ReadAllTextAsync(path));
        if (committed != generated)
        {
            var difference = FirstDifference(JsonNode.Parse(committed), JsonNode.Parse(generated), "#") ?? "the same JSON, laid out differently";
            Assert.Fail($"docs/openapi.json is not the document the server generates; first difference: {difference}.\n{RegenerateHint}");
        }
    }

    /// <summary>Where two JSON documents first differ, as a JSON pointer and what differs there (null when equal).</summary>
    private static string? FirstDifference(JsonNode? committed, JsonNode? generated, string at)
    {
        switch (committed, generated)
        {
            case (JsonObject a, JsonObject b):
                foreach (var name in a.Select(p => p.Key).Union(b.Select(p => p.Key)))
                {
                    var member = $"{at}/{name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)}";
                    if (!a.ContainsKey(name) || !b.ContainsKey(name))
                    {
                        return $"{member} is only in the {(a.ContainsKey(name) ? "committed" : "generated")} document";
                    }

                    if (FirstDifference(a[name], b[name], member) is { } inside)
                    {
                        return inside;
                    }
                }

                return a.Select(p => p.Key).SequenceEqual(b.Select(p => p.Key)) ? null : $"{at} has its members in another order";
            case (JsonArray a, JsonArray b):
                for (var i = 0; i < Math.Min(a.Count, b.Count); i++)
                {
                    if (FirstDifference(a[i], b[i], $"{at}/{i}") is { } inside)
                    {
                        return inside;
                    }
                }

                return a.Count == b.Count ? null : $"{at} has {a.Count} items committed, {b.Count} generated";
            default:
                return JsonNode.DeepEquals(committed, generated) ? null
                    : $"{at} is {Shorten(committed)} committed, {Shorten(generated)} generated";
        }

        static string Shorten(JsonNode? node)
        {
            var text = node?.ToJsonString() ?? "null";
            return text.Length <= 120 ? text : text[..117] + "...";
        }
    }

    [Fact]
    public void DocumentIsAValidOpenApi3DocumentWithNoHostInIt()
    {
        Assert.StartsWith("3.", Document["openapi"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("CHeKT Partner API", Document["info"]!["title"]!.GetValue<string>());
        Assert.Equal("v1", Document["info"]!["version"]!.GetValue<string>());
        var server = Assert.Single(Document["servers"]!.AsArray())!;
        Assert.Equal("/", server["url"]!.GetValue<string>());
        Assert.DoesNotContain("localhost", fixture.Json, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", fixture.Json, StringComparison.Ordinal);

        // Every $ref points at something that exists.
        Assert.All(OpenApiJson.References(Document), reference => Assert.NotNull(OpenApiJson.Pointer(Document, reference)));

        // And the OpenAPI.NET reader, with its validation rules, finds nothing wrong.
        var result = OpenApiDocument.Parse(fixture.Json, "json", new OpenApiReaderSettings());
        Assert.NotNull(result.Document);
        Assert.Empty(result.Diagnostic?.Errors.Select(e => $"{e.Pointer}: {e.Message}") ?? []);
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, result.Diagnostic!.SpecificationVersion);
    }

    [Fact]
    public void EveryPartnerEndpointIsDocumentedWithItsOperationIdTagAndSummary()
    {
        var endpoints = PartnerEndpoints();
        Assert.NotEmpty(endpoints);
        var tags = new[] { "Dealers", "Sites", "Contacts", "MonitoringStations", "Devices" };
        foreach (var endpoint in endpoints)
        {
            var (path, method) = (PathOf(endpoint), MethodOf(endpoint));
            var name = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
            Assert.False(string.IsNullOrEmpty(name), $"{method} {path} has no .WithName(...) (its operationId)");
            var operation = Document["paths"]?[path]?[method.ToLowerInvariant()]?.AsObject();
            Assert.True(operation is not null, $"{method} {path} ({name}) is missing from the document");
            Assert.Equal(name, operation!["operationId"]!.GetValue<string>());
            Assert.Contains(Assert.Single(operation["tags"]!.AsArray())!.GetValue<string>(), tags);
            Assert.False(string.IsNullOrWhiteSpace(operation["summary"]?.GetValue<string>()), $"{name} has no summary");
        }

        // Nothing else: no health checks, no OAuth endpoints, no operation without an endpoint.
        Assert.Equal(endpoints.Count, OpenApiJson.Operations(Document).Count());
        Assert.All(OpenApiJson.Operations(Document), op => Assert.StartsWith("/partner/v1/", op.Path, StringComparison.Ordinal));
        Assert.Equal(tags, Document["tags"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
    }

    [Fact]
    public void ContactCreateRequestRequiresExactlyExternalContactIdFirstNameAndLastName()
    {
        var operation = Operation("CreateContact");
        var schema = OpenApiJson.Resolve(Document, operation["requestBody"]!["content"]!["application/json"]!["schema"]!.AsObject());
        Assert.True(operation["requestBody"]!["required"]!.GetValue<bool>());
        Assert.Equal(["external_contact_id", "first_name", "last_name"], schema["required"]!.AsArray().Select(r => r!.GetValue<string>()).Order());
        Assert.Equal(["email", "external_contact_id", "first_name", "last_name", "phone_number"], schema["properties"]!.AsObject().Select(p => p.Key).Order());
        Assert.False(schema["additionalProperties"]!.GetValue<bool>());
        var properties = schema["properties"]!.AsObject();
        foreach (var name in new[] { "external_contact_id", "first_name", "last_name" })
        {
            Assert.Equal(["string"], OpenApiJson.Types(properties[name]!.AsObject()));
            Assert.Equal(1, properties[name]!["minLength"]!.GetValue<int>());
        }

        Assert.Equal(["null", "string"], OpenApiJson.Types(properties["phone_number"]!.AsObject()).Order());
        Assert.Equal("email", properties["email"]!["format"]!.GetValue<string>());

        // The update: nothing required, the names not nullable (they cannot be cleared), the rest nullable.
        var update = OpenApiJson.Resolve(Document, Operation("UpdateContact")["requestBody"]!["content"]!["application/json"]!["schema"]!.AsObject());
        Assert.Null(update["required"]);
        Assert.Equal(["string"], OpenApiJson.Types(update["properties"]!["first_name"]!.AsObject()));
        Assert.Equal(["null", "string"], OpenApiJson.Types(update["properties"]!["email"]!.AsObject()).Order());
    }

    [Fact]
    public void ResponseObjectsAlwaysHaveEveryFieldAndNumbersAreIntegers()
    {
        var contact = OpenApiJson.Resolve(Document, Operation("GetContact")["responses"]!["200"]!["content"]!["application/json"]!["schema"]!.AsObject());
        Assert.Equal(SiteApiWorld.ContactFields, contact["required"]!.AsArray().Select(r => r!.GetValue<string>()));
        var id = contact["properties"]!["contact_id"]!.AsObject();
        Assert.Equal(["integer"], OpenApiJson.Types(id));
        Assert.Equal("int64", id["format"]!.GetValue<string>());
        Assert.Equal("date-time", contact["properties"]!["created_at"]!["format"]!.GetValue<string>());

        var site = OpenApiJson.Resolve(Document, Operation("GetSite")["responses"]!["200"]!["content"]!["application/json"]!["schema"]!.AsObject());
        Assert.Equal(SiteApiWorld.SiteFields, site["required"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal(["integer", "null"], OpenApiJson.Types(site["properties"]!["monitoring_station_id"]!.AsObject()).Order());

        // No schema anywhere lets a number be sent as a string.
        Assert.DoesNotContain("^-?(?:0|[1-9]\\\\d*)$", fixture.Json, StringComparison.Ordinal);

        // The bulk result: device or error, each present only when it applies, never null.
        var result = Document["components"]!["schemas"]!["BulkDeviceResult"]!.AsObject();
        Assert.Equal(["external_device_id", "is_successful"], result["required"]!.AsArray().Select(r => r!.GetValue<string>()).Order());
        Assert.Equal("#/components/schemas/DeviceResponse", result["properties"]!["device"]!["$ref"]!.GetValue<string>());
        Assert.Equal("#/components/schemas/BulkDeviceError", result["properties"]!["error"]!["$ref"]!.GetValue<string>());
    }

    [Fact]
    public void DevicesCreateTakesAnArrayOfAtMost500AndAnswersTheBulkResult()
    {
        var operation = Operation("CreateDevices");
        var body = operation["requestBody"]!["content"]!["application/json"]!["schema"]!.AsObject();
        Assert.Equal("array", body["type"]!.GetValue<string>());
        Assert.Equal(1, body["minItems"]!.GetValue<int>());
        Assert.Equal(500, body["maxItems"]!.GetValue<int>());
        Assert.Equal("#/components/schemas/CreateDeviceRequest", body["items"]!["$ref"]!.GetValue<string>());
        Assert.Equal("#/components/schemas/BulkCreateDevicesResponse",
            operation["responses"]!["201"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
    }

    [Fact]
    public void EveryOperationRequiresItsScopeThroughOAuth()
    {
        foreach (var endpoint in PartnerEndpoints())
        {
            var operation = Operation(endpoint);
            var scopes = endpoint.Metadata.GetOrderedMetadata<RequiredScope>().Select(s => s.Scope).ToList();
            var adminOnly = endpoint.Metadata.GetMetadata<RequireDealerAdmin>() is not null;
            var requirements = operation["security"]!.AsArray().Select(r => r!.AsObject()).ToList();
            var schemes = requirements.SelectMany(r => r.Select(p => p.Key)).ToList();
            // Note: connect and disconnect take a dealer admin's user token, so only the authorization code flow.
            Assert.Equal(adminOnly ? ["authorizationCode"] : ["clientCredentials", "authorizationCode"], schemes);
            Assert.All(requirements.SelectMany(r => r), requirement =>
                Assert.Equal(scopes, requirement.Value!.AsArray().Select(s => s!.GetValue<string>())));
            Assert.True(adminOnly || scopes.Count == 1, $"{operation["operationId"]} needs exactly one scope");
            if (scopes.Count == 1)
            {
                Assert.Contains($"`{scopes[0]}`", operation["responses"]!["403"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task SecuritySchemesAreTheServersOAuthFlowsWithEveryScopeDescribed()
    {
        var schemes = Document["components"]!["securitySchemes"]!.AsObject();
        var clientCredentials = schemes["clientCredentials"]!["flows"]!["clientCredentials"]!.AsObject();
        var authorizationCode = schemes["authorizationCode"]!["flows"]!["authorizationCode"]!.AsObject();
        Assert.Equal("oauth2", schemes["clientCredentials"]!["type"]!.GetValue<string>());
        Assert.Equal("oauth2", schemes["authorizationCode"]!["type"]!.GetValue<string>());

        // The URLs are those the server's own discovery document announces.
        var discovery = await (await fixture.App.Client.GetAsync("/.well-known/oauth-authorization-server")).ReadJsonAsync();
        var tokenPath = new Uri(discovery.GetProperty("token_endpoint").GetString()!).AbsolutePath;
        var authorizePath = new Uri(discovery.GetProperty("authorization_endpoint").GetString()!).AbsolutePath;
        Assert.Equal(tokenPath, clientCredentials["tokenUrl"]!.GetValue<string>());
        Assert.Equal(tokenPath, authorizationCode["tokenUrl"]!.GetValue<string>());
        Assert.Equal(authorizePath, authorizationCode["authorizationUrl"]!.GetValue<string>());

        Assert.Equal(Scopes.Api.Order(), clientCredentials["scopes"]!.AsObject().Select(s => s.Key).Order());
        Assert.Equal(Scopes.All.Order(), authorizationCode["scopes"]!.AsObject().Select(s => s.Key).Order());
        Assert.All(authorizationCode["scopes"]!.AsObject(), scope => Assert.False(string.IsNullOrWhiteSpace(scope.Value!.GetValue<string>())));
    }

    [Fact]
    public void EveryOperationTakesTheTraceIdAndWritesTakeIdempotencyKeyAndIfMatchWhereHonoured()
    {
        // The handlers that read If-Match (ETags.ReadIfMatch).
        string[] ifMatch =
        [
            "UpdateDealer", "UpdateSite", "DeleteSite", "UpdateArmingSettings", "UpdateContact", "DeleteContact",
            "UpdateMonitoringStation", "DeleteMonitoringStation", "UpdateDevice", "DeleteDevice",
        ];
        var trace = Document["components"]!["parameters"]!["x-partner-trace-id"]!.AsObject();
        Assert.Equal("header", trace["in"]!.GetValue<string>());
        Assert.Equal("x-partner-trace-id", trace["name"]!.GetValue<string>());
        Assert.False(trace["required"]?.GetValue<bool>() ?? false);

        foreach (var (path, method, operation) in OpenApiJson.Operations(Document))
        {
            var id = operation["operationId"]!.GetValue<string>();
            var parameters = operation["parameters"]!.AsArray().Select(p => OpenApiJson.Resolve(Document, p!.AsObject())).ToList();
            var headers = parameters.Where(p => p["in"]!.GetValue<string>() == "header").Select(p => p["name"]!.GetValue<string>()).ToList();
            Assert.Contains("x-partner-trace-id", headers);
            Assert.Equal(method != "get", headers.Contains("Idempotency-Key"));
            Assert.Equal(ifMatch.Contains(id), headers.Contains("If-Match"));
            Assert.Equal(ifMatch.Contains(id), operation["responses"]!.AsObject().ContainsKey("412"));

            // Path ids: every {param} of the path, as a positive int64.
            var pathParameters = parameters.Where(p => p["in"]!.GetValue<string>() == "path").ToList();
            Assert.Equal(PathParameters(path), pathParameters.Select(p => p["name"]!.GetValue<string>()));
            Assert.All(pathParameters, p =>
            {
                Assert.True(p["required"]!.GetValue<bool>());
                Assert.Equal("integer", p["schema"]!["type"]!.GetValue<string>());
                Assert.Equal("int64", p["schema"]!["format"]!.GetValue<string>());
                Assert.Equal(1, p["schema"]!["minimum"]!.GetValue<int>());
            });

            // The success answer carries the trace id and the rate-limit headers; 200/201 of a single resource its ETag.
            var success = operation["responses"]!.AsObject().Single(r => r.Key.StartsWith('2'));
            var successHeaders = success.Value!["headers"]!.AsObject().Select(h => h.Key).ToList();
            Assert.Contains("x-partner-trace-id", successHeaders);
            Assert.Contains("X-RateLimit-Remaining", successHeaders);
            Assert.Equal(success.Key == "201", successHeaders.Contains("Location"));
        }

        Assert.Equal(["limit", "after"], QueryParameters("ListContacts"));
        Assert.Equal(["limit", "after"], QueryParameters("ListSites"));
        Assert.Empty(QueryParameters("GetContact"));
        Assert.Contains("Link", Operation("ListDevices")["responses"]!["200"]!["headers"]!.AsObject().Select(h => h.Key));
        Assert.Contains("ETag", Operation("GetContact")["responses"]!["200"]!["headers"]!.AsObject().Select(h => h.Key));
    }

    [Fact]
    public void EveryOperationDocumentsItsErrorsWithTheErrorBody()
    {
        foreach (var (_, method, operation) in OpenApiJson.Operations(Document))
        {
            var id = operation["operationId"]!.GetValue<string>();
            var responses = operation["responses"]!.AsObject();
            var expected = new List<string> { "400", "401", "403", "429", "503" };
            if (id != "ConnectDealer")
            {
                expected.Add("404");
            }

            if (method != "get")
            {
                expected.Add("409");
            }

            if (operation["requestBody"] is not null)
            {
                expected.AddRange(["413", "415"]);
            }

            Assert.Equal(expected.Order(), responses.Where(r => !r.Key.StartsWith('2')).Select(r => r.Key).Except(["412"]).Order());
            foreach (var (status, response) in responses.Where(r => !r.Key.StartsWith('2')))
            {
                Assert.Equal("#/components/schemas/ErrorEnvelope", response!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
                Assert.Contains("`", response["description"]!.GetValue<string>(), StringComparison.Ordinal); // names the error codes
            }
        }

        var envelope = Document["components"]!["schemas"]!["ErrorEnvelope"]!.AsObject();
        var body = OpenApiJson.Resolve(Document, envelope["properties"]!["error"]!.AsObject());
        Assert.Equal(["code", "message", "request_id", "field", "details"], body["required"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Contains("`monitoring_station_in_use`", Operation("DeleteMonitoringStation")["responses"]!["409"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("`contact_not_found`", Operation("GetContact")["responses"]!["404"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryExampleMatchesItsSchemaAndTheSeedsAreUsed()
    {
        var examples = 0;
        foreach (var (_, _, operation) in OpenApiJson.Operations(Document))
        {
            var id = operation["operationId"]!.GetValue<string>();
            var media = new List<(string Where, JsonObject Media)>();
            if (operation["requestBody"]?["content"]?["application/json"] is JsonObject request)
            {
                media.Add(("request", request));
            }

            media.AddRange(operation["responses"]!.AsObject()
                .Where(r => r.Value!["content"]?["application/json"] is not null)
                .Select(r => ($"response {r.Key}", r.Value!["content"]!["application/json"]!.AsObject())));
            foreach (var (where, content) in media.Where(m => m.Media.ContainsKey("example")))
            {
                examples++;
                var problems = OpenApiJson.Check(Document, content["example"], content["schema"]!.AsObject(), $"{id} {where} example");
                Assert.True(problems.Count == 0, string.Join("\n", problems));
            }

            // Every request body and every success body has one.
            Assert.All(media.Where(m => !m.Where.StartsWith("response 4", StringComparison.Ordinal) && !m.Where.StartsWith("response 5", StringComparison.Ordinal)),
                m => Assert.True(m.Media.ContainsKey("example"), $"{id} {m.Where} has no example"));
        }

        Assert.True(examples >= 30, $"only {examples} examples");
        var errorExample = Document["components"]!["schemas"]!["ErrorEnvelope"]!["examples"]![0];
        Assert.Empty(OpenApiJson.Check(Document, errorExample, Document["components"]!["schemas"]!["ErrorEnvelope"]!.AsObject(), "error example"));

        // The seeds' examples, verbatim.
        var contact = Operation("CreateContact")["requestBody"]!["content"]!["application/json"]!["example"]!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(
            """{"external_contact_id": "1234", "first_name": "John", "last_name": "Doe", "phone_number": "1234567890", "email": "john.doe@example.com"}"""), contact));
        var dealer = Operation("GetDealer")["responses"]!["200"]!["content"]!["application/json"]!["example"]!;
        Assert.Equal(12345, dealer["dealer_id"]!.GetValue<long>());
        Assert.Equal("CHeKT Security Solutions Inc.", dealer["company_name"]!.GetValue<string>());
        Assert.Null(Operation("DisconnectDealer")["responses"]!["200"]!["content"]!["application/json"]!["example"]!["external_dealer_id"]);
    }

    private JsonObject Operation(string operationId) =>
        OpenApiJson.Operations(Document).Single(op => op.Operation["operationId"]!.GetValue<string>() == operationId).Operation;

    private JsonObject Operation(RouteEndpoint endpoint) =>
        Document["paths"]![PathOf(endpoint)]![MethodOf(endpoint).ToLowerInvariant()]!.AsObject();

    private List<string> QueryParameters(string operationId) =>
    [
        .. Operation(operationId)["parameters"]!.AsArray()
            .Select(p => OpenApiJson.Resolve(Document, p!.AsObject()))
            .Where(p => p["in"]!.GetValue<string>() == "query")
            .Select(p => p["name"]!.GetValue<string>()),
    ];

    private List<RouteEndpoint> PartnerEndpoints() =>
    [
        .. fixture.App.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => PathOf(e).StartsWith("/partner/v1/", StringComparison.Ordinal)),
    ];

    private static string MethodOf(RouteEndpoint endpoint) => endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Single();

    /// <summary>The route as OpenAPI writes it: <c>/partner/v1/dealers/{dealerId}</c>.</summary>
    private static string PathOf(RouteEndpoint endpoint) =>
        "/" + string.Join("/", endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
            RoutePatternSeparatorPart separator => separator.Content,
            _ => "",
        }))));

    private static IEnumerable<string> PathParameters(string path) =>
        path.Split('/').Where(s => s.StartsWith('{')).Select(s => s.Trim('{', '}'));

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Chekt.PartnerApi.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Chekt.PartnerApi.slnx above {AppContext.BaseDirectory}.");
    }
}
