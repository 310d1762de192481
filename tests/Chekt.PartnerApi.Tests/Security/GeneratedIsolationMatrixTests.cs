using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Chekt.PartnerApi.Tests.Security;

/// <summary>
/// Spec §2.4 as a matrix generated from the server's own endpoint table, so a new route cannot escape
/// it: partner A gets 403 on partner B's dealer, and on its own dealer B's site, contact, station or
/// device is refused exactly like an id that never existed; afterwards B's data is unchanged. A route
/// parameter, a route without <c>{dealerId}</c> or a write route the matrix does not know how to fill
/// fails the test, so every new route is forced into it. <see cref="PartnerIsolationTests"/> and
/// <see cref="StationAndDeviceIsolationTests"/> keep the hand-written details (narrowed tokens, paging).
/// </summary>
public sealed class GeneratedIsolationMatrixTests
{
    private const string DealerId = "dealerId";

    /// <summary>An id no table of the test ever reaches.</summary>
    private const long NeverExisting = 999_999_999;

    /// <summary>Both partners know their dealer under this id, so a lookup by external id would mix them up.</summary>
    private const string SharedExternalDealerId = "dealer-1";

    /// <summary>Endpoints that carry no HTTP method metadata answer every verb; the matrix cannot enumerate them.</summary>
    private const string AnyMethod = "*";

    /// <summary>Every child route parameter the matrix can fill, with the error code of a resource that does not exist (spec §2.4: 404).</summary>
    private static readonly Dictionary<string, string> NotFoundCodes = new(StringComparer.Ordinal)
    {
        ["siteId"] = "site_not_found",
        ["contactId"] = "contact_not_found",
        ["monitoringStationId"] = "monitoring_station_not_found",
        ["deviceId"] = "device_not_found",
    };

    /// <summary>
    /// A valid body for every write route (null: the route takes none). Ids in braces are filled like
    /// path ids, so a body's reference to another resource is probed too. The external ids are new
    /// ones, so the control run (each body on A's own ids) is accepted.
    /// </summary>
    private static readonly Dictionary<string, string?> Bodies = new(StringComparer.Ordinal)
    {
        ["PUT /partner/v1/dealers/connect"] = $$"""{"external_dealer_id":"{{SharedExternalDealerId}}","company_name":"Intruder Inc."}""",
        ["PUT /partner/v1/dealers/{dealerId}"] = """{"company_name":"Hijacked Inc.","company_email":"evil@intruder.example.com"}""",
        ["PUT /partner/v1/dealers/{dealerId}/disconnect"] = null,
        ["POST /partner/v1/dealers/{dealerId}/sites"] =
            """{"external_site_id":"intruder-site","name":"Intruder site","timezone":"Asia/Seoul","monitoring_station_id":{monitoringStationId}}""",
        ["PUT /partner/v1/dealers/{dealerId}/sites/{siteId}"] = """{"name":"Hijacked site","address2":null,"monitoring_station_id":{monitoringStationId}}""",
        ["PATCH /partner/v1/dealers/{dealerId}/sites/{siteId}/arming-settings"] = """{"security_type":4}""",
        ["POST /partner/v1/dealers/{dealerId}/sites/{siteId}/contacts"] =
            """{"external_contact_id":"intruder-contact","first_name":"Eve","last_name":"Intruder","phone_number":"+1 555 000 0000"}""",
        ["PUT /partner/v1/dealers/{dealerId}/sites/{siteId}/contacts/{contactId}"] = """{"first_name":"Hijacked","email":null}""",
        ["POST /partner/v1/dealers/{dealerId}/monitoring-stations"] = """{"external_monitoring_station_id":"intruder-station","name":"Intruder station"}""",
        ["PUT /partner/v1/dealers/{dealerId}/monitoring-stations/{monitoringStationId}"] = """{"name":"Hijacked station","prefix":null}""",
        ["POST /partner/v1/dealers/{dealerId}/sites/{siteId}/devices"] = """[{"external_device_id":"intruder-device","device_type":"camera","zone_number":"1"}]""",
        ["PUT /partner/v1/dealers/{dealerId}/sites/{siteId}/devices/{deviceId}"] = """{"name":"Hijacked device","zone_number":"9"}""",
    };

    /// <summary>The routes of <c>/partner/v1</c> without <c>{dealerId}</c>: why, and the isolation each must show instead.</summary>
    private static readonly NotDealerScoped[] NotDealerScopedRoutes =
    [
        new("PUT /partner/v1/dealers/connect",
            "acts on the signed-in dealer admin's own dealer (spec §2.4, §3); nothing in the request can name another dealer",
            CheckConnectAsync),
    ];

    private sealed record NotDealerScoped(string Route, string Why, Func<Run, ApiRoute, Task> CheckAsync);

    /// <summary>One verb of one endpoint under <c>/partner/v1</c>, as the server's endpoint table has it.</summary>
    private sealed record ApiRoute(string Method, RoutePattern Pattern, bool NeedsDealerAdmin)
    {
        // Note: a group's MapGet("") leaves a trailing slash in the raw text; routing ignores it, and so do the tables.
        public string Template => Pattern.RawText!.TrimEnd('/');

        public IReadOnlyList<string> PathParameters => [.. Pattern.Parameters.Select(p => p.Name)];

        public IReadOnlyList<string> UnknownParameters => [.. PathParameters.Where(p => p != DealerId && !NotFoundCodes.ContainsKey(p))];

        public bool IsDealerScoped => PathParameters.Contains(DealerId);

        public bool Writes => Method is "POST" or "PUT" or "PATCH";

        public string? BodyTemplate => Bodies.GetValueOrDefault(ToString());

        /// <summary>The child ids the route takes, in its path or in its body.</summary>
        public IEnumerable<string> ChildIds => NotFoundCodes.Keys.Where(name =>
            PathParameters.Contains(name) || BodyTemplate?.Contains($"{{{name}}}", StringComparison.Ordinal) == true);

        public string Path(IReadOnlyDictionary<string, long> ids) =>
            string.Concat(Pattern.PathSegments.Select(segment => "/" + string.Concat(segment.Parts.Select(part => part switch
            {
                RoutePatternParameterPart parameter => ids[parameter.Name].ToString(CultureInfo.InvariantCulture),
                RoutePatternLiteralPart literal => literal.Content,
                RoutePatternSeparatorPart separator => separator.Content,
                _ => throw new InvalidOperationException($"{this}: unknown route pattern part {part}"),
            }))));

        public string? Body(IReadOnlyDictionary<string, long> ids) =>
            ids.Aggregate(BodyTemplate, (body, id) => body?.Replace($"{{{id.Key}}}", id.Value.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));

        public override string ToString() => $"{Method} {Template}";
    }

    /// <summary>A partner with its M2M token, its dealer admin's user token and the ids of its connected dealer and of one resource of each kind.</summary>
    private sealed record Side(string Token, string AdminToken, IReadOnlyDictionary<string, long> Ids)
    {
        public string TokenFor(ApiRoute route) => route.NeedsDealerAdmin ? AdminToken : Token;

        public Dictionary<string, long> With(string name, long id) => new(Ids) { [name] = id };
    }

    /// <summary>What a client can tell of one answer: status, error code, field, details and message, and any flaw in the error shape.</summary>
    private sealed record Answer(string Request, int Status, string? Code, string? Field, string? Details, string? Message, string? ShapeProblem, string Text)
    {
        public static async Task<Answer> ReadAsync(string request, HttpResponseMessage response)
        {
            var text = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            if (status < 400)
            {
                return new Answer(request, status, null, null, null, null, null, text);
            }

            try
            {
                var error = await response.ReadErrorAsync(status);
                return new Answer(request, status, error.GetProperty("code").GetString(), error.GetProperty("field").GetRawText(),
                    error.GetProperty("details").GetRawText(), error.GetProperty("message").GetString(), null, text);
            }
            catch (Exception exception) when (exception is Xunit.Sdk.XunitException or InvalidOperationException or KeyNotFoundException)
            {
                return new Answer(request, status, null, null, null, null, exception.Message, text);
            }
        }

        /// <summary>Everything visible but the probed id, so the answers for two different ids compare.</summary>
        public string Masked(long id) =>
            $"{Status} {Code} field={Field} details={Details} message=\"{Regex.Replace(Message ?? "", $@"\b{id}\b", "{id}")}\"";

        public override string ToString() => $"{Status} {(Text.Length <= 300 ? Text : Text[..300] + "…")}";
    }

    /// <summary>One status, ETag and exact body read by a side's own token.</summary>
    private sealed record Reading(string Request, int Status, string? ETag, string Body);

    /// <summary>One run of the matrix: the server, both sides, and every mismatch found so far.</summary>
    private sealed class Run(TestApp app, Side a, Side b)
    {
        public TestApp App => app;

        public Side A => a;

        public Side B => b;

        public List<string> Failures { get; } = [];

        public int Requests { get; private set; }

        /// <summary>Sends the route with <paramref name="ids"/> filled in, and the route's body unless another is given.</summary>
        public async Task<Answer> SendAsync(ApiRoute route, string token, IReadOnlyDictionary<string, long> ids, string? body = null)
        {
            var path = route.Path(ids);
            using var request = Seed.Authorized(new HttpMethod(route.Method), path, token, body ?? route.Body(ids));
            using var response = await App.Client.SendAsync(request);
            Requests++;
            return await Answer.ReadAsync($"{route.Method} {path}", response);
        }

        public void Expect(Answer answer, int status, string code, string what)
        {
            if (answer.Status != status || answer.Code != code || answer.ShapeProblem is not null)
            {
                Failures.Add($"{answer.Request} [{what}]: expected {status} {code}, got {answer}{(answer.ShapeProblem is null ? "" : $" (error shape: {answer.ShapeProblem})")}");
            }
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task EveryApiRouteRefusesAnotherPartnersIdsAsIfTheyDidNotExistAndChangesNothingOfTheirs(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        await StaggerIdsAsync(app);
        var run = new Run(app, await SideAsync(app, "A"), await SideAsync(app, "B"));
        Assert.True(run.A.Ids.Values.Concat(run.B.Ids.Values).Distinct().Count() == 2 * run.A.Ids.Count, "A's and B's ids must all differ");
        var routes = ApiRoutes(app);
        Assert.True(routes.Count >= 25, $"only {routes.Count} routes found under /partner/v1");
        var before = await SnapshotAsync(app, routes, run.B);
        Assert.True(before.All(reading => reading.Status == 200), $"B's own token must read all of B's data:\n{string.Join('\n', before)}");

        var covered = new List<ApiRoute>();
        foreach (var route in routes)
        {
            if (await ProbeAsync(run, route))
            {
                covered.Add(route);
            }
        }

        ReportStaleEntries(run, routes);
        await ControlAsync(run, routes);
        await ExpectNoIdsOfBInAnswersToAAsync(run, routes);
        var after = await SnapshotAsync(app, routes, run.B);
        run.Failures.AddRange(before.Zip(after).Where(pair => pair.First != pair.Second).Select(pair => $"B's data changed:\n  was {pair.First}\n  now {pair.Second}"));
        run.Failures.AddRange(routes.Except(covered).Select(route => $"{route}: not covered by the matrix"));

        Assert.True(run.Failures.Count == 0,
            $"{run.Failures.Count} isolation mismatches over {routes.Count} routes and {run.Requests} requests:\n{string.Join('\n', run.Failures)}");
        Assert.True(covered.Count >= routes.Count, $"the matrix covered {covered.Count} of the {routes.Count} routes under /partner/v1");
    }

    /// <summary>Every route and verb under <c>/partner/v1</c> of the server's endpoint table.</summary>
    private static List<ApiRoute> ApiRoutes(TestApp app) =>
    [
        .. app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/partner/v1", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [AnyMethod])
                .Select(method => new ApiRoute(method, e.RoutePattern, e.Metadata.GetMetadata<RequireDealerAdmin>() is not null)))
            .OrderBy(route => route.Template, StringComparer.Ordinal).ThenBy(route => route.Method, StringComparer.Ordinal),
    ];

    /// <summary>
    /// The matrix for one route: B's dealer is 403, and each of B's child ids on A's own dealer is
    /// refused exactly like an id that never existed. False when the matrix does not know how to
    /// probe the route (recorded as a failure, so a new route is forced into it).
    /// </summary>
    private static async Task<bool> ProbeAsync(Run run, ApiRoute route)
    {
        if (route.Method == AnyMethod)
        {
            run.Failures.Add($"{route.Template}: the endpoint has no HTTP method metadata, so the matrix cannot enumerate its verbs");
            return false;
        }

        if (route.UnknownParameters.Count > 0)
        {
            run.Failures.Add($"{route}: route parameter(s) {string.Join(", ", route.UnknownParameters)} unknown to the matrix; "
                + "add each to NotFoundCodes with its not-found code, and create one per side in SideAsync");
            return false;
        }

        if (route.Writes && !Bodies.ContainsKey(route.ToString()))
        {
            run.Failures.Add($"{route}: a write route without an entry in Bodies; add a valid body (null if it takes none)");
            return false;
        }

        if (!route.IsDealerScoped)
        {
            var exception = NotDealerScopedRoutes.SingleOrDefault(entry => entry.Route == route.ToString());
            if (exception is null)
            {
                run.Failures.Add($"{route}: names no {{{DealerId}}} and has no entry in NotDealerScopedRoutes; add one with the isolation it must show");
                return false;
            }

            await exception.CheckAsync(run, route);
            return true;
        }

        var token = run.A.TokenFor(route);
        run.Expect(await run.SendAsync(route, token, run.B.Ids), 403, "dealer_not_connected", "B's dealer and ids");

        foreach (var name in route.ChildIds)
        {
            var what = $"A's dealer, B's {name}";
            var intruding = await run.SendAsync(route, token, run.A.With(name, run.B.Ids[name]));
            var missing = await run.SendAsync(route, token, run.A.With(name, NeverExisting));
            if (route.PathParameters.Contains(name))
            {
                run.Expect(intruding, 404, NotFoundCodes[name], what);
            }
            else if (intruding.Status is < 400 or >= 500 || intruding.ShapeProblem is not null)
            {
                // Only in the body: refused as the body's reference to something that does not exist (400 naming the field).
                run.Failures.Add($"{intruding.Request} [{what} in the body]: expected a 4xx error, got {intruding}");
            }

            var seen = intruding.Masked(run.B.Ids[name]);
            var unseen = missing.Masked(NeverExisting);
            if (seen != unseen)
            {
                run.Failures.Add($"{intruding.Request} [{what}]: distinguishable from an id that never existed:\n  B's id:  {seen}\n  missing: {unseen} ({missing.Request})");
            }
        }

        return true;
    }

    /// <summary>
    /// Connect names no dealer: it binds the signed-in admin's own dealer. Partner A sending the
    /// external id partner B uses for B's dealer connects A's own dealer, and a body naming B's dealer
    /// is refused as an unknown field.
    /// </summary>
    private static async Task CheckConnectAsync(Run run, ApiRoute route)
    {
        var named = await run.SendAsync(route, run.A.AdminToken, run.A.Ids,
            $$"""{"external_dealer_id":"{{SharedExternalDealerId}}","company_name":"Intruder Inc.","dealer_id":{{run.B.Ids[DealerId]}}}""");
        run.Expect(named, 400, "unknown_field", "body naming B's dealer");

        var connected = await run.SendAsync(route, run.A.AdminToken, run.A.Ids);
        var dealer = connected.Status == 200 ? JsonDocument.Parse(connected.Text).RootElement : default;
        if (connected.Status != 200 || dealer.GetProperty("dealer_id").GetInt64() != run.A.Ids[DealerId]
            || dealer.GetProperty("external_dealer_id").GetString() != SharedExternalDealerId)
        {
            run.Failures.Add($"{connected.Request} [B's external dealer id]: expected 200 with A's dealer {run.A.Ids[DealerId]}, got {connected}");
        }
    }

    /// <summary>An entry of the matrix's own tables that no route uses any more is stale: it would hide that a route changed.</summary>
    private static void ReportStaleEntries(Run run, IReadOnlyList<ApiRoute> routes)
    {
        var names = routes.Select(route => route.ToString()).ToHashSet(StringComparer.Ordinal);
        var writes = routes.Where(route => route.Writes).Select(route => route.ToString()).ToHashSet(StringComparer.Ordinal);
        run.Failures.AddRange(NotDealerScopedRoutes.Where(entry => !names.Contains(entry.Route))
            .Select(entry => $"NotDealerScopedRoutes entry '{entry.Route}' ({entry.Why}) matches no route: remove it"));
        run.Failures.AddRange(Bodies.Keys.Where(key => !writes.Contains(key)).Select(key => $"Bodies entry '{key}' matches no write route: remove it"));
    }

    /// <summary>
    /// Every body of the table is accepted on A's own ids, so the refusals above come from isolation and
    /// not from a body the server would have refused anyway. Writes without a body (disconnect) are
    /// left out: they would end A's access.
    /// </summary>
    private static async Task ControlAsync(Run run, IEnumerable<ApiRoute> routes)
    {
        foreach (var route in routes.Where(r => r.Writes && r.IsDealerScoped && r.UnknownParameters.Count == 0 && r.BodyTemplate is not null))
        {
            var answer = await run.SendAsync(route, run.A.TokenFor(route), run.A.Ids);
            var body = answer.Status is >= 200 and < 300 ? JsonDocument.Parse(answer.Text).RootElement : default;
            var itemsFailed = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("failure_count", out var count) && count.GetInt32() != 0;
            if (answer.Status is < 200 or >= 300 || itemsFailed)
            {
                run.Failures.Add($"{answer.Request} [control, A's own ids]: the body of Bodies is not accepted, got {answer}");
            }
        }
    }

    /// <summary>No answer to A, of a list or of a single resource, holds an id of B's resources.</summary>
    private static async Task ExpectNoIdsOfBInAnswersToAAsync(Run run, IEnumerable<ApiRoute> routes)
    {
        foreach (var route in routes.Where(r => r.Method == "GET" && r.IsDealerScoped && r.UnknownParameters.Count == 0))
        {
            var answer = await run.SendAsync(route, run.A.TokenFor(route), run.A.Ids);
            if (answer.Status != 200)
            {
                run.Failures.Add($"{answer.Request} [A's own ids]: expected 200, got {answer}");
                continue;
            }

            run.Failures.AddRange(IdsOf(JsonDocument.Parse(answer.Text).RootElement, run.B).Select(id => $"{answer.Request} [A's own ids]: the answer holds B's {id}"));
        }
    }

    /// <summary>Every <c>*_id</c> property in <paramref name="element"/> whose value is the side's id of that kind.</summary>
    private static IEnumerable<string> IdsOf(JsonElement element, Side side)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var found in element.EnumerateArray().SelectMany(item => IdsOf(item, side)))
            {
                yield return found;
            }
        }
        else if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.Name.EndsWith("_id", StringComparison.Ordinal) && property.Value.ValueKind == JsonValueKind.Number
                    && side.Ids.TryGetValue(ParameterOf(property.Name), out var id) && property.Value.GetInt64() == id)
                {
                    yield return $"{property.Name} {id}";
                }

                foreach (var found in IdsOf(property.Value, side))
                {
                    yield return found;
                }
            }
        }
    }

    /// <summary>The route parameter of a JSON id property: <c>monitoring_station_id</c> is <c>monitoringStationId</c>.</summary>
    private static string ParameterOf(string property)
    {
        var words = property.Split('_', StringSplitOptions.RemoveEmptyEntries);
        return words[0] + string.Concat(words.Skip(1).Select(word => char.ToUpperInvariant(word[0]) + word[1..]));
    }

    /// <summary>Everything a side's own token reads through every GET route filled with its ids: status, ETag and exact body.</summary>
    private static async Task<List<Reading>> SnapshotAsync(TestApp app, IEnumerable<ApiRoute> routes, Side side)
    {
        var readings = new List<Reading>();
        foreach (var route in routes.Where(r => r.Method == "GET" && r.IsDealerScoped && r.UnknownParameters.Count == 0))
        {
            var path = route.Path(side.Ids);
            using var request = Seed.Authorized(HttpMethod.Get, path, side.TokenFor(route));
            using var response = await app.Client.SendAsync(request);
            readings.Add(new Reading($"GET {path}", (int)response.StatusCode, response.Headers.ETag?.ToString(), await response.Content.ReadAsStringAsync()));
        }

        return readings;
    }

    /// <summary>
    /// In a fresh database every table counts from 1, so A's ids would all be 1 and B's all 2, and a
    /// handler that reads one route parameter for another could pass by coincidence. A bystander
    /// partner's dealer fills each table until its ids pass every id handed out before it.
    /// </summary>
    private static async Task StaggerIdsAsync(TestApp app)
    {
        var partner = await Seed.PartnerAsync(app, "Bystander");
        var dealer = await Seed.DealerAsync(app, "Bystander dealer");
        await Seed.ConnectAsync(app, partner, dealer, "bystander");
        var token = await Seed.ClientCredentialsTokenAsync(app, await Seed.ClientAsync(app, partner));
        var filled = 0;

        // Creates items until the last one's id reaches the highest id the two sides get of the kind before.
        async Task<long> FillAsync(long highest, string path, Func<int, string> body, Func<JsonElement, long> idOf)
        {
            long id;
            do
            {
                using var response = await app.Client.SendAsync(Seed.Authorized(HttpMethod.Post, $"/partner/v1/dealers/{dealer}{path}", token, body(++filled)));
                var created = await response.ReadJsonAsync();
                Assert.True((int)response.StatusCode == 201, $"POST {path}: {created}");
                id = idOf(created);
            }
            while (id < highest);
            return id;
        }

        var station = await FillAsync(dealer + 2, "/monitoring-stations", n => $$"""{"external_monitoring_station_id":"filler-{{n}}","name":"Filler"}""",
            created => created.GetProperty("monitoring_station_id").GetInt64());
        var site = await FillAsync(station + 2, "/sites", n => $$"""{"external_site_id":"filler-{{n}}","name":"Filler","timezone":"UTC"}""",
            created => created.GetProperty("site_id").GetInt64());
        var contact = await FillAsync(site + 2, $"/sites/{site}/contacts", n => $$"""{"external_contact_id":"filler-{{n}}","first_name":"F","last_name":"F"}""",
            created => created.GetProperty("contact_id").GetInt64());
        await FillAsync(contact + 2, $"/sites/{site}/devices", n => $$"""[{"external_device_id":"filler-{{n}}","device_type":"camera","zone_number":"1"}]""",
            created => created.GetProperty("results")[0].GetProperty("device").GetProperty("device_id").GetInt64());
    }

    /// <summary>
    /// A partner with its own clients and tokens and its own connected dealer with a station, a site on
    /// it, a contact and a device; both sides use the same external ids throughout.
    /// </summary>
    private static async Task<Side> SideAsync(TestApp app, string name)
    {
        var partner = await Seed.PartnerAsync(app, $"Partner {name}");
        var client = await Seed.ClientAsync(app, partner, $"{name} M2M");
        var web = await Seed.ClientAsync(app, partner, $"{name} Web", redirectUris: [UserTokens.RedirectUri]);
        var dealer = await Seed.DealerAsync(app, $"Dealer {name}");
        await Seed.ConnectAsync(app, partner, dealer, SharedExternalDealerId);
        var token = await Seed.ClientCredentialsTokenAsync(app, client);
        var adminToken = await UserTokens.NewUserTokenAsync(app, web, dealer, $"admin@dealer-{name.ToLowerInvariant()}.example.com");

        async Task<JsonElement> CreateAsync(string path, string body)
        {
            using var response = await app.Client.SendAsync(Seed.Authorized(HttpMethod.Post, $"/partner/v1/dealers/{dealer}{path}", token, body));
            var created = await response.ReadJsonAsync();
            Assert.True((int)response.StatusCode == 201, $"POST {path}: {created}");
            return created;
        }

        var station = (await CreateAsync("/monitoring-stations", """{"external_monitoring_station_id":"station-1","name":"Station"}"""))
            .GetProperty("monitoring_station_id").GetInt64();
        var site = (await CreateAsync("/sites", $$"""{"external_site_id":"site-1","name":"Site","timezone":"UTC","monitoring_station_id":{{station}}}"""))
            .GetProperty("site_id").GetInt64();
        var contact = (await CreateAsync($"/sites/{site}/contacts", """{"external_contact_id":"contact-1","first_name":"Jane","last_name":"Doe"}"""))
            .GetProperty("contact_id").GetInt64();
        var devices = await CreateAsync($"/sites/{site}/devices", """[{"external_device_id":"device-1","device_type":"bridge","zone_number":"7"}]""");
        var device = devices.GetProperty("results")[0].GetProperty("device").GetProperty("device_id").GetInt64();
        return new Side(token, adminToken, new Dictionary<string, long>(StringComparer.Ordinal)
        {
            [DealerId] = dealer,
            ["siteId"] = site,
            ["contactId"] = contact,
            ["monitoringStationId"] = station,
            ["deviceId"] = device,
        });
    }
}
