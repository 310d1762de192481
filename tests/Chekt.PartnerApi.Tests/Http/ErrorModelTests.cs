using System.Net.Http.Headers;
using System.Text;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using static Chekt.PartnerApi.Tests.Infrastructure.HttpTestExtensions;

namespace Chekt.PartnerApi.Tests.Http;

/// <summary>Spec §7: every failure a client can cause is a 4xx with the error body, never a 500.</summary>
public sealed class ErrorModelTests
{
    private static Task<TestApp> StartAsync(DatabaseProvider provider) => TestApp.StartAsync(provider, JsonProbe.Add);

    [Theory, OnSqlite, OnPostgres]
    public async Task UnknownRouteIs404WithTheErrorBody(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var response = await app.Client.GetAsync("/partner/v1/no-such-thing");
        var error = await response.ReadErrorAsync(404, "not_found");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, error.GetProperty("field").ValueKind);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task WrongMethodIs405WithTheErrorBodyAndAllowHeader(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var response = await app.Client.DeleteAsync("/healthz");
        await response.ReadErrorAsync(405, "method_not_allowed");
        Assert.Contains("GET", response.Content.Headers.Allow);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ErrorsUnderOAuthThatNoEndpointWroteHaveRfc6749Bodies(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        async Task AssertOAuthBodyAsync(HttpResponseMessage response, int status)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
            var body = System.Text.Json.JsonDocument.Parse(text).RootElement;
            Assert.Equal(["error", "error_description"], body.EnumerateObject().Select(property => property.Name));
            Assert.Equal("invalid_request", body.GetProperty("error").GetString());
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        }

        using (var wrongMethod = await app.Client.PutAsync("/oauth/token", new StringContent("")))
        {
            await AssertOAuthBodyAsync(wrongMethod, 405);
            Assert.Contains("POST", wrongMethod.Content.Headers.Allow);
        }

        var tooLarge = new StringContent("grant_type=" + new string('a', 100_000), Encoding.ASCII, "application/x-www-form-urlencoded");
        await AssertOAuthBodyAsync(await app.Client.PostAsync("/oauth/token", tooLarge), 413);
        await AssertOAuthBodyAsync(await app.Client.GetAsync("/oauth/no-such-endpoint"), 404);

        // Outside /oauth the API's own body stays.
        await (await app.Client.PutAsync("/healthz", new StringContent(""))).ReadErrorAsync(405, "method_not_allowed");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task DeclaredBodyOver64KiBIs413(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var body = "{\"name\":\"" + new string('a', 64 * 1024) + "\"}";
        var response = await app.Client.PostAsync("/__probe/json", Json(body));
        await response.ReadErrorAsync(413, "payload_too_large");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task OneMebibyteBodyWithoutContentLengthIs413(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"name\":\"" + new string('x', 1024 * 1024) + "\"}")));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/__probe/json") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        var response = await app.Client.SendAsync(request);
        await response.ReadErrorAsync(413, "payload_too_large");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task OneMebibyteBodyToAnyRouteIs413(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var response = await app.Client.PostAsync("/healthz", new ByteArrayContent(new byte[1024 * 1024]));
        await response.ReadErrorAsync(413, "payload_too_large");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task BodyOfAnotherContentTypeIs415(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        foreach (var mediaType in new[] { "text/plain", "application/x-www-form-urlencoded", "application/xml" })
        {
            var response = await app.Client.PostAsync("/__probe/json", Json("{\"name\":\"a\"}", mediaType));
            await response.ReadErrorAsync(415, "unsupported_media_type");
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task BodyWithoutContentTypeIs415(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var response = await app.Client.PostAsync("/__probe/json", new ByteArrayContent("{}"u8.ToArray()));
        await response.ReadErrorAsync(415, "unsupported_media_type");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task JsonInAnotherCharsetIs415(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var content = new ByteArrayContent("{}"u8.ToArray());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json; charset=iso-8859-1");
        var response = await app.Client.PostAsync("/__probe/json", content);
        await response.ReadErrorAsync(415, "unsupported_media_type");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task MalformedJsonIs400(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        foreach (var body in new[] { "{\"name\":", "{name:1}", "{\"name\":\"a\",}", "[1,2", "nul", "{\"name\":\"a\"} {}", "{\"name\":\"x\"", "{", "[" })
        {
            var response = await app.Client.PostAsync("/__probe/json", Json(body));
            var error = await response.ReadErrorAsync(400, "malformed_json");
            Assert.True(error.GetProperty("message").GetString()!.StartsWith("The request body is not well-formed JSON", StringComparison.Ordinal), $"{body}: {error}");
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task EmptyBodyIs400(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var response = await app.Client.PostAsync("/__probe/json", Json(""));
        await response.ReadErrorAsync(400, "body_required");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task InvalidUtf8Is400(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var content = new ByteArrayContent([(byte)'{', (byte)'"', (byte)'n', (byte)'a', (byte)'m', (byte)'e', (byte)'"', (byte)':', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}']);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var response = await app.Client.PostAsync("/__probe/json", content);
        await response.ReadErrorAsync(400, "malformed_json");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task JsonNestedTenThousandDeepIs400(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var body = "{\"name\":" + new string('[', 10_000) + new string(']', 10_000) + "}";
        var response = await app.Client.PostAsync("/__probe/json", Json(body));
        var error = await response.ReadErrorAsync(400, "malformed_json");
        Assert.StartsWith("The request body is nested deeper than", error.GetProperty("message").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task DuplicateKeysAre400(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var response = await app.Client.PostAsync("/__probe/json", Json("{\"name\":\"a\",\"name\":\"b\"}"));
        var error = await response.ReadErrorAsync(400, "malformed_json");
        Assert.StartsWith("The request body has a property that appears twice", error.GetProperty("message").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task UnknownFieldIs400NamingTheField(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var response = await app.Client.PostAsync("/__probe/json", Json("{\"name\":\"a\",\"nickname\":\"b\"}"));
        var error = await response.ReadErrorAsync(400, "unknown_field");
        Assert.Equal("nickname", error.GetProperty("field").GetString());
        Assert.Equal("nickname", error.GetProperty("details")[0].GetProperty("field").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task FieldNamesAreCaseSensitive(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var response = await app.Client.PostAsync("/__probe/json", Json("{\"Name\":\"a\"}"));
        var error = await response.ReadErrorAsync(400, "unknown_field");
        Assert.Equal("Name", error.GetProperty("field").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task WrongJsonTypeIs400NamingTheField(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var cases = new (string Body, string Field)[]
        {
            ("{\"name\":42}", "name"),
            ("{\"name\":{}}", "name"),
            ("{\"count\":\"7\"}", "count"),
            ("{\"count\":1.5}", "count"),
            ("{\"count\":99999999999999999999}", "count"),
            ("{\"active\":\"true\"}", "active"),
            ("{\"active\":1}", "active"),
        };
        foreach (var (body, field) in cases)
        {
            var response = await app.Client.PostAsync("/__probe/json", Json(body));
            var error = await response.ReadErrorAsync(400, "invalid_type");
            Assert.Equal(field, error.GetProperty("field").GetString());
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task BodyThatIsNotAnObjectIs400(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        foreach (var body in new[] { "[]", "\"text\"", "42", "null" })
        {
            var response = await app.Client.PostAsync("/__probe/json", Json(body));
            await response.ReadErrorAsync(400, "invalid_type");
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task WellFormedBodyIsReadWithAbsentAndNullFieldsTold(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var response = await app.Client.PostAsync("/__probe/json", Json("{\"name\":\"Zoë 🚀\",\"count\":null}"));
        var body = await response.ReadJsonAsync();
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("Zoë 🚀", body.GetProperty("value").GetProperty("name").GetString());
        Assert.Equal(["count", "name"], body.GetProperty("present").EnumerateArray().Select(e => e.GetString()));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task UnhandledExceptionIsAGeneric500ThatLeaksNothing(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var response = await app.Client.GetAsync("/__probe/throw");
        var text = await response.Content.ReadAsStringAsync();
        var error = await response.ReadErrorAsync(500, "internal_error");
        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);
        // The operator still gets the details, tied to the request id.
        var logged = app.Logs.Entries.Single(e => e.Exception?.Message == JsonProbe.SecretExceptionText);
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Equal(error.GetProperty("request_id").GetString(), logged.Scope["PartnerTraceId"]);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ResponsesCarryNoServerBanner(DatabaseProvider provider)
    {
        await using var app = await StartAsync(provider);
        var response = await app.Client.GetAsync("/healthz");
        Assert.False(response.Headers.Contains("Server"));
    }
}
