using System.Net.Http.Headers;
using System.Text;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Dapper;
using Microsoft.AspNetCore.Routing;

namespace Chekt.PartnerApi.Tests.Reliability;

/// <summary>
/// A generated corpus of hostile input against every route of the server's own endpoint table (so a
/// new route cannot escape): every answer is a 4xx with the error body, never a 5xx, never a hang,
/// and the database is unchanged afterwards.
/// </summary>
public sealed class HostileInputTests
{
    // Every request field of the API, so that each wrong JSON type is tried on each field. (null, "" and
    // blank strings are valid for optional fields; their rules are tested per resource.)
    private static readonly string[] Fields =
    [
        "external_dealer_id", "company_name", "company_address1", "company_address2", "company_email", "company_phone_number",
        "external_site_id", "name", "timezone", "monitoring_station_id", "account_number", "address1", "address2", "security_type",
        "external_contact_id", "first_name", "last_name", "phone_number", "email", "external_monitoring_station_id", "prefix", "linecard",
        "external_device_id", "device_type", "zone_number", "additional_zone_numbers", "mac", "manufacturer", "model", "serial_number",
    ];

    private static readonly string[] WrongValues =
    [
        "123", "-1", "0", "1.5", "99999999999999999999999", "1e400", "true", "false", "{}", "[]", "[1,2]", "{\"a\":1}",
        "\"\\u0000\"", "\"a\\u0000b\"", "\"\\ud800\"", "\"\\udc00x\"", "\"x\\ud83d\"",
    ];

    private static readonly string[] MalformedBodies =
    [
        "{", "}", "{\"a\":", "nul", "{'a':1}", "{\"a\":1,}", "[", "\"unterminated", "{\"a\":1}{\"b\":2}", "{\"a\" 1}", "\u0000",
        "{\"name\":\"x\",\"name\":\"y\"}",
        new string('[', 10_000) + new string(']', 10_000),
        "{\"a\":" + new string('[', 10_000) + new string(']', 10_000) + "}",
        "[" + string.Join(',', Enumerable.Repeat("1", 20_000)) + "]",
        "[" + string.Join(',', Enumerable.Repeat("{}", 10_000)) + "]",
    ];

    private static readonly string[] PathTricks = ["1%2F..", "1;2", "%00", "0", "-1", "99999999999999999999", "1.0", "%20", "abc", "1e3", "0x10"];

    [Theory, OnSqlite, OnPostgres]
    public async Task EveryRouteAnswersHostileInputWithA4xxErrorBodyAndChangesNothing(DatabaseProvider provider)
    {
        // On a real socket: Kestrel's own parsing and limits are part of what hostile input meets.
        await using var world = await ApiWorld.StartAsync(provider, onKestrel: true);
        var siteId = await world.CreateSiteAsync();
        var contact = await world.OkAsync(HttpMethod.Post, $"{world.DealerPath}/sites/{siteId}/contacts", "{\"external_contact_id\":\"c\",\"first_name\":\"A\",\"last_name\":\"B\"}");
        var station = await world.OkAsync(HttpMethod.Post, $"{world.DealerPath}/monitoring-stations", "{\"external_monitoring_station_id\":\"m\",\"name\":\"M\"}");
        var devices = await world.OkAsync(HttpMethod.Post, $"{world.DealerPath}/sites/{siteId}/devices", "[{\"external_device_id\":\"d\",\"device_type\":\"camera\",\"zone_number\":\"1\"}]");
        var ids = new Dictionary<string, string>
        {
            ["dealerId"] = world.DealerId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["siteId"] = siteId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["contactId"] = contact.GetProperty("contact_id").ToString(),
            ["monitoringStationId"] = station.GetProperty("monitoring_station_id").ToString(),
            ["deviceId"] = devices.GetProperty("results")[0].GetProperty("device").GetProperty("device_id").ToString(),
        };

        var routes = world.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/partner/v1", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(method => (Method: method, Pattern: e.RoutePattern.RawText!)))
            .ToList();
        Assert.True(routes.Count >= 25, $"only {routes.Count} routes found");

        var before = await SnapshotAsync(world);
        var failures = new List<string>();
        var sent = 0;
        foreach (var (method, pattern) in routes)
        {
            var path = Fill(pattern, ids);
            var writes = method is "POST" or "PUT" or "PATCH";
            var requests = new List<(string What, HttpRequestMessage Request)>();
            if (writes)
            {
                foreach (var body in MalformedBodies)
                {
                    requests.Add(($"malformed {Shorten(body)}", Json(method, path, body)));
                }

                foreach (var field in Fields)
                {
                    foreach (var value in WrongValues)
                    {
                        var json = $"{{\"{field}\":{value}}}";
                        requests.Add(($"{field}={value}", Json(method, path, json)));
                        requests.Add(($"[{field}={value}]", Json(method, path, $"[{json}]")));
                    }
                }

                // With Expect: 100-continue the client waits for the verdict before sending the body, as
                // well-behaved clients of large uploads do; without it the refused upload ends in a reset.
                var huge = Json(method, path, $"{{\"name\":\"{new string('x', 1024 * 1024)}\"}}");
                huge.Headers.ExpectContinue = true;
                requests.Add(("1 MB string", huge));
                requests.Add(("invalid UTF-8", Bytes(method, path, [0x7B, 0x22, 0x6E, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D], "application/json")));
                foreach (var type in new[] { "text/plain", "application/xml", "multipart/form-data; boundary=x", "application/json; charset=utf-16" })
                {
                    requests.Add(($"content type {type}", Bytes(method, path, "{}"u8.ToArray(), type)));
                }
            }

            foreach (var (name, _) in ids.Where(id => pattern.Contains($"{{{id.Key}}}", StringComparison.Ordinal)))
            {
                foreach (var trick in PathTricks)
                {
                    var tricked = Fill(pattern, new Dictionary<string, string>(ids) { [name] = trick });
                    requests.Add(($"{name}={trick}", writes ? Json(method, tricked, "{}") : new HttpRequestMessage(new HttpMethod(method), tricked)));
                }
            }

            requests.Add(("unknown query parameter", new HttpRequestMessage(new HttpMethod(method), path + "?debug=true&limit=1")));
            var longTrace = new HttpRequestMessage(new HttpMethod(method), path);
            longTrace.Headers.TryAddWithoutValidation("x-partner-trace-id", new string('t', 100_000));
            requests.Add(("100 KB trace id", longTrace));
            var repeated = new HttpRequestMessage(new HttpMethod(method), path);
            repeated.Headers.TryAddWithoutValidation("x-partner-trace-id", ["a", "b"]);
            requests.Add(("repeated trace id", repeated));

            foreach (var (what, request) in requests)
            {
                request.Headers.Authorization ??= new AuthenticationHeaderValue("Bearer", world.Token);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                HttpResponseMessage response;
                try
                {
                    response = await world.App.Client.SendAsync(request, timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    failures.Add($"{method} {pattern} [{what}]: no answer within 10 s");
                    continue;
                }

                sent++;
                var status = (int)response.StatusCode;
                var text = await response.Content.ReadAsStringAsync();
                // Bulk device creation reports bad items inside a 201; everything else must be refused.
                var acceptedBulkItem = status == 201 && pattern.EndsWith("/devices", StringComparison.Ordinal) && text.Contains("\"success_count\":0", StringComparison.Ordinal);
                if (acceptedBulkItem)
                {
                    continue;
                }

                // Note: a NUL in the path is refused by Kestrel itself while parsing the request line,
                // before any middleware runs, so that 400 carries no body.
                var kestrelRefusal = status == 400 && text.Length == 0 && what.EndsWith("%00", StringComparison.Ordinal);
                if (status is < 400 or >= 500 || (!kestrelRefusal && !text.StartsWith("{\"error\":{\"code\":", StringComparison.Ordinal)))
                {
                    failures.Add($"{method} {pattern} [{what}]: {status} {Shorten(text)}");
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} hostile requests were not refused cleanly:\n{string.Join('\n', failures.Take(40))}");
        Assert.Equal(before, await SnapshotAsync(world));
    }

    /// <summary>Emoji, right-to-left text and other scripts are valid input: stored and answered back unchanged.</summary>
    [Theory, OnSqlite, OnPostgres]
    public async Task ExoticButValidTextRoundTripsUnchanged(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var siteId = await world.CreateSiteAsync();
        foreach (var (index, text) in new[] { "🚀👩‍👩‍👧 Zoë", "\u202Eevil", "مرحبا بالعالم", "日本語テキスト", "Ω≈ç√∫˜µ≤≥÷", "tab\\there" }.Index())
        {
            var created = await world.OkAsync(HttpMethod.Post, $"{world.DealerPath}/sites/{siteId}/contacts",
                $"{{\"external_contact_id\":\"x{index}\",\"first_name\":\"{text}\",\"last_name\":\"L\"}}");
            var read = await world.OkAsync(HttpMethod.Get, $"{world.DealerPath}/sites/{siteId}/contacts/{created.GetProperty("contact_id")}");
            var expected = System.Text.Json.JsonDocument.Parse($"\"{text}\"").RootElement.GetString();
            Assert.Equal(expected, read.GetProperty("first_name").GetString());
        }
    }

    private static string Fill(string pattern, IReadOnlyDictionary<string, string> ids) =>
        ids.Aggregate(pattern, (path, id) => path.Replace($"{{{id.Key}}}", id.Value, StringComparison.Ordinal));

    private static HttpRequestMessage Json(string method, string path, string body) =>
        new(new HttpMethod(method), path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    private static HttpRequestMessage Bytes(string method, string path, byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return new HttpRequestMessage(new HttpMethod(method), path) { Content = content };
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    /// <summary>Every row of the resource tables, as text.</summary>
    private static async Task<string> SnapshotAsync(ApiWorld world)
    {
        var text = new StringBuilder();
        await using var connection = await world.App.Services.GetRequiredService<Db>().OpenAsync();
        foreach (var table in new[] { "dealers", "dealer_connections", "sites", "contacts", "monitoring_stations", "devices", "dealer_users", "oauth_clients" })
        {
            foreach (var row in await connection.QueryAsync($"SELECT * FROM {table} ORDER BY id"))
            {
                text.AppendLine(table + ": " + string.Join('|', ((IDictionary<string, object?>)row).Select(kv => $"{kv.Key}={kv.Value}")));
            }
        }

        return text.ToString();
    }
}
