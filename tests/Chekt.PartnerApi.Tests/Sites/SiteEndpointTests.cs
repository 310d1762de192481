using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using static Chekt.PartnerApi.Tests.Infrastructure.SiteApiWorld;

namespace Chekt.PartnerApi.Tests.Sites;

/// <summary>
/// The Sites API (spec §4 with §2.3, §2.4 and §7): create, list, get, partial update, delete (with
/// the site's contacts), arming settings, validation, 404s, uniqueness, paging, ETags and scopes.
/// </summary>
public sealed class SiteEndpointTests
{
    private const string FullCreateBody =
        """
        {
          "external_site_id": "site-001",
          "name": "Main Office",
          "timezone": "America/New_York",
          "account_number": "ACC-1001",
          "address1": "123 Main Street",
          "address2": "Suite 100"
        }
        """;

    private static string BigId => new('9', 20);

    // ----- create / get / list -------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task CreatingASiteAnswers201WithLocationETagAndTheSiteObject(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var response = await world.SendAsync(HttpMethod.Post, world.SitesPath(), FullCreateBody);
        var body = await response.ReadJsonAsync();

        Assert.Equal(201, (int)response.StatusCode);
        AssertFields(SiteFields, body);
        var siteId = body.GetProperty("site_id");
        Assert.Equal(JsonValueKind.Number, siteId.ValueKind);
        Assert.True(siteId.GetInt64() > 0);
        Assert.Equal("site-001", body.GetProperty("external_site_id").GetString());
        Assert.Equal("Main Office", body.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("monitoring_station_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("external_monitoring_station_id").ValueKind);
        Assert.Equal("ACC-1001", body.GetProperty("account_number").GetString());
        Assert.Equal("123 Main Street", body.GetProperty("address1").GetString());
        Assert.Equal("Suite 100", body.GetProperty("address2").GetString());
        Assert.Equal("America/New_York", body.GetProperty("timezone").GetString());
        Assert.Equal(JsonValueKind.Number, body.GetProperty("is_activated").ValueKind);
        Assert.Equal(0, body.GetProperty("is_activated").GetInt32());
        Assert.Matches(TimestampPattern, body.GetProperty("created_at").GetString());

        Assert.Equal($"{world.SitesPath()}/{siteId.GetInt64()}", response.Headers.Location?.OriginalString);
        Assert.NotNull(response.Headers.ETag);

        var read = await world.SendAsync(HttpMethod.Get, response.Headers.Location!.OriginalString);
        Assert.Equal(200, (int)read.StatusCode);
        Assert.Equal(body.ToString(), (await read.ReadJsonAsync()).ToString());
        Assert.Equal(response.Headers.ETag, read.Headers.ETag);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ASiteCreatedWithOnlyTheRequiredFieldsHasNullOptionalFields(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var body = await world.CreateSiteAsync("minimal", "Minimal", "UTC");

        AssertFields(SiteFields, body);
        foreach (var optional in new[] { "monitoring_station_id", "external_monitoring_station_id", "account_number", "address1", "address2" })
        {
            Assert.Equal(JsonValueKind.Null, body.GetProperty(optional).ValueKind);
        }

        Assert.Equal(0, body.GetProperty("is_activated").GetInt32());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task GettingASiteAnswersTheSiteWithAnETag(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var created = await world.CreateSiteAsync("site-1", "Warehouse");
        var response = await world.SendAsync(HttpMethod.Get, world.SitePath(created.GetProperty("site_id").GetInt64()));
        var body = await response.ReadJsonAsync();

        Assert.Equal(200, (int)response.StatusCode);
        AssertFields(SiteFields, body);
        Assert.Equal(created.ToString(), body.ToString());
        Assert.NotNull(response.Headers.ETag);
        Assert.False(response.Headers.ETag!.IsWeak);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ListingSitesAnswersABareArrayOfTheDealersSitesOrderedById(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var empty = await world.SendAsync(HttpMethod.Get, world.SitesPath());
        Assert.Equal(200, (int)empty.StatusCode);
        Assert.Equal(0, (await empty.ReadJsonAsync()).GetArrayLength());

        var a = await world.CreateSiteIdAsync("z-last-by-name");
        await world.CreateSiteIdAsync("other-dealer-site", world.OtherDealer);
        var b = await world.CreateSiteIdAsync("a-first-by-name");
        var c = await world.CreateSiteIdAsync("m-middle");

        var response = await world.SendAsync(HttpMethod.Get, world.SitesPath());
        var body = await response.ReadJsonAsync();
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(JsonValueKind.Array, body.ValueKind);
        Assert.Equal([a, b, c], body.EnumerateArray().Select(s => s.GetProperty("site_id").GetInt64()).ToList());
        foreach (var site in body.EnumerateArray())
        {
            AssertFields(SiteFields, site);
        }

        Assert.False(response.Headers.Contains("Link"));
    }

    // ----- partial update ------------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task UpdatingASiteChangesOnlyTheFieldsSentAndNullClearsOptionalFields(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var created = (await (await world.SendAsync(HttpMethod.Post, world.SitesPath(), FullCreateBody)).ReadJsonAsync());
        var path = world.SitePath(created.GetProperty("site_id").GetInt64());

        var renamed = await world.SendAsync(HttpMethod.Put, path, "{\"name\":\"Head Office\"}");
        var body = await renamed.ReadJsonAsync();
        Assert.Equal(200, (int)renamed.StatusCode);
        AssertFields(SiteFields, body);
        Assert.Equal("Head Office", body.GetProperty("name").GetString());
        foreach (var unchanged in new[] { "site_id", "external_site_id", "account_number", "address1", "address2", "timezone", "is_activated", "created_at" })
        {
            Assert.Equal(created.GetProperty(unchanged).ToString(), body.GetProperty(unchanged).ToString());
        }

        var cleared = await (await world.SendAsync(HttpMethod.Put, path, "{\"address2\":null,\"account_number\":null}")).ReadJsonAsync();
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("address2").ValueKind);
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("account_number").ValueKind);
        Assert.Equal("123 Main Street", cleared.GetProperty("address1").GetString());
        Assert.Equal("Head Office", cleared.GetProperty("name").GetString());

        var several = await (await world.SendAsync(HttpMethod.Put, path,
            "{\"timezone\":\"Asia/Seoul\",\"address1\":null,\"address2\":\"Floor 2\",\"account_number\":\"ACC-2\"}")).ReadJsonAsync();
        Assert.Equal("Asia/Seoul", several.GetProperty("timezone").GetString());
        Assert.Equal(JsonValueKind.Null, several.GetProperty("address1").ValueKind);
        Assert.Equal("Floor 2", several.GetProperty("address2").GetString());
        Assert.Equal("ACC-2", several.GetProperty("account_number").GetString());

        var read = await (await world.SendAsync(HttpMethod.Get, path)).ReadJsonAsync();
        Assert.Equal(several.ToString(), read.ToString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnEmptySiteUpdateChangesNothingAndAnswers200(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var created = (await (await world.SendAsync(HttpMethod.Post, world.SitesPath(), FullCreateBody)).ReadJsonAsync());
        var path = world.SitePath(created.GetProperty("site_id").GetInt64());

        var response = await world.SendAsync(HttpMethod.Put, path, "{}");
        var body = await response.ReadJsonAsync();
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(created.ToString(), body.ToString());
        Assert.Equal(created.ToString(), (await (await world.SendAsync(HttpMethod.Get, path)).ReadJsonAsync()).ToString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task UpdatingARequiredSiteFieldToNullOrBlankIs400(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var created = await world.CreateSiteAsync("site-1", "Main Office");
        var path = world.SitePath(created.GetProperty("site_id").GetInt64());
        foreach (var field in new[] { "name", "timezone" })
        {
            foreach (var value in new[] { "null", "\"\"", "\"   \"", "\"\\t\\n\"" })
            {
                var error = await (await world.SendAsync(HttpMethod.Put, path, $"{{\"{field}\":{value}}}")).ReadErrorAsync(400);
                Assert.True(field == error.GetProperty("field").GetString(), $"{field}={value}: {error}");
            }
        }

        Assert.Equal(created.ToString(), (await (await world.SendAsync(HttpMethod.Get, path)).ReadJsonAsync()).ToString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ExternalSiteIdCannotBeSentToAnUpdate(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var created = await world.CreateSiteAsync("site-1");
        var path = world.SitePath(created.GetProperty("site_id").GetInt64());

        var error = await (await world.SendAsync(HttpMethod.Put, path, "{\"external_site_id\":\"site-2\"}")).ReadErrorAsync(400, "unknown_field");
        Assert.Equal("external_site_id", error.GetProperty("field").GetString());
        Assert.Equal("site-1", (await (await world.SendAsync(HttpMethod.Get, path)).ReadJsonAsync()).GetProperty("external_site_id").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task IsActivatedIsZeroOnCreateAndCannotBeSent(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var createError = await (await world.SendAsync(HttpMethod.Post, world.SitesPath(),
            "{\"external_site_id\":\"s\",\"name\":\"n\",\"timezone\":\"UTC\",\"is_activated\":1}")).ReadErrorAsync(400, "unknown_field");
        Assert.Equal("is_activated", createError.GetProperty("field").GetString());
        Assert.Equal(0, (await (await world.SendAsync(HttpMethod.Get, world.SitesPath())).ReadJsonAsync()).GetArrayLength());

        var created = await world.CreateSiteAsync("s");
        Assert.Equal(0, created.GetProperty("is_activated").GetInt32());
        var path = world.SitePath(created.GetProperty("site_id").GetInt64());
        foreach (var value in new[] { "1", "0", "true" })
        {
            var error = await (await world.SendAsync(HttpMethod.Put, path, $"{{\"is_activated\":{value}}}")).ReadErrorAsync(400, "unknown_field");
            Assert.Equal("is_activated", error.GetProperty("field").GetString());
        }

        Assert.Equal(0, (await (await world.SendAsync(HttpMethod.Get, path)).ReadJsonAsync()).GetProperty("is_activated").GetInt32());
    }

    // ----- delete --------------------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task DeletingASiteAnswers204AndRemovesItsContacts(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var doomed = await world.CreateSiteIdAsync("doomed");
        var kept = await world.CreateSiteIdAsync("kept");
        await world.CreateContactIdAsync(doomed, "c-1");
        await world.CreateContactIdAsync(doomed, "c-2");
        var keptContact = await world.CreateContactIdAsync(kept, "c-1");

        var response = await world.SendAsync(HttpMethod.Delete, world.SitePath(doomed));
        Assert.Equal(204, (int)response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());

        await (await world.SendAsync(HttpMethod.Get, world.SitePath(doomed))).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Get, world.ContactsPath(doomed))).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Delete, world.SitePath(doomed))).ReadErrorAsync(404, "site_not_found");
        Assert.Equal(0, await world.CountAsync("SELECT COUNT(*) FROM contacts WHERE site_id = @doomed", new { doomed }));
        Assert.Equal(0, await world.CountAsync("SELECT COUNT(*) FROM sites WHERE id = @doomed", new { doomed }));

        // A new site (even with the same external id) starts without contacts; the other site keeps its own.
        var reborn = await world.CreateSiteIdAsync("doomed");
        Assert.Equal(0, (await (await world.SendAsync(HttpMethod.Get, world.ContactsPath(reborn))).ReadJsonAsync()).GetArrayLength());
        Assert.Equal(0, await world.CountAsync("SELECT COUNT(*) FROM contacts WHERE site_id = @reborn", new { reborn }));
        var keptContacts = await (await world.SendAsync(HttpMethod.Get, world.ContactsPath(kept))).ReadJsonAsync();
        Assert.Equal([keptContact], keptContacts.EnumerateArray().Select(c => c.GetProperty("contact_id").GetInt64()).ToList());
        Assert.Equal(1, await world.CountAsync("SELECT COUNT(*) FROM contacts", new { }));
    }

    // ----- arming settings -----------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task ArmingSettingsCanBeReadAndSetToEachSecurityType(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var siteId = (await world.CreateSiteAsync("site-1", "Main Office")).GetProperty("site_id").GetInt64();
        string[] fields = ["site_id", "external_site_id", "name", "security_type"];

        var read = await world.SendAsync(HttpMethod.Get, world.ArmingPath(siteId));
        var settings = await read.ReadJsonAsync();
        Assert.Equal(200, (int)read.StatusCode);
        AssertFields(fields, settings);
        Assert.Equal(siteId, settings.GetProperty("site_id").GetInt64());
        Assert.Equal("site-1", settings.GetProperty("external_site_id").GetString());
        Assert.Equal("Main Office", settings.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Number, settings.GetProperty("security_type").ValueKind);
        Assert.InRange(settings.GetProperty("security_type").GetInt32(), 1, 4);
        Assert.NotNull(read.Headers.ETag);

        foreach (var type in new[] { 3, 1, 4, 2 })
        {
            var patched = await world.SendAsync(HttpMethod.Patch, world.ArmingPath(siteId), $"{{\"security_type\":{type}}}");
            var body = await patched.ReadJsonAsync();
            Assert.Equal(200, (int)patched.StatusCode);
            AssertFields(fields, body);
            Assert.Equal(type, body.GetProperty("security_type").GetInt32());
            Assert.NotNull(patched.Headers.ETag);
            Assert.Equal(type, (await (await world.SendAsync(HttpMethod.Get, world.ArmingPath(siteId))).ReadJsonAsync()).GetProperty("security_type").GetInt32());
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ArmingSettingsRefuseASecurityTypeOtherThan1To4(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var siteId = (await world.CreateSiteAsync("site-1")).GetProperty("site_id").GetInt64();
        Assert.Equal(200, (int)(await world.SendAsync(HttpMethod.Patch, world.ArmingPath(siteId), "{\"security_type\":3}")).StatusCode);

        foreach (var body in new[]
        {
            "{\"security_type\":0}", "{\"security_type\":5}", "{\"security_type\":-1}", "{\"security_type\":\"2\"}",
            "{\"security_type\":null}", "{}", "{\"security_type\":2.5}", "{\"security_type\":true}", "{\"security_type\":99999999999}",
        })
        {
            var error = await (await world.SendAsync(HttpMethod.Patch, world.ArmingPath(siteId), body)).ReadErrorAsync(400);
            Assert.True("security_type" == error.GetProperty("field").GetString(), $"{body}: {error}");
        }

        var unknown = await (await world.SendAsync(HttpMethod.Patch, world.ArmingPath(siteId), "{\"security_type\":2,\"armed\":true}")).ReadErrorAsync(400, "unknown_field");
        Assert.Equal("armed", unknown.GetProperty("field").GetString());
        Assert.Equal(3, (await (await world.SendAsync(HttpMethod.Get, world.ArmingPath(siteId))).ReadJsonAsync()).GetProperty("security_type").GetInt32());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ArmingSettingsOfAnUnknownSiteOrASiteOfAnotherDealerAre404(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var foreign = await world.CreateSiteIdAsync("foreign", world.OtherDealer);
        foreach (var siteId in new[] { 987654L, foreign })
        {
            await (await world.SendAsync(HttpMethod.Get, world.ArmingPath(siteId))).ReadErrorAsync(404, "site_not_found");
            await (await world.SendAsync(HttpMethod.Patch, world.ArmingPath(siteId), "{\"security_type\":2}")).ReadErrorAsync(404, "site_not_found");
        }

        var error = await (await world.SendAsync(HttpMethod.Get, world.ArmingPath("abc"))).ReadErrorAsync(400);
        Assert.Equal("siteId", error.GetProperty("field").GetString());
    }

    // ----- timezone ------------------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task ValidIanaTimezonesAreAccepted(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var siteId = (await world.CreateSiteAsync("site-0", timezone: "Europe/London")).GetProperty("site_id").GetInt64();
        var index = 0;
        foreach (var zone in new[] { "Asia/Seoul", "America/New_York", "UTC" })
        {
            var created = await world.CreateSiteAsync($"site-{++index}", timezone: zone);
            Assert.Equal(zone, created.GetProperty("timezone").GetString());

            var updated = await world.SendAsync(HttpMethod.Put, world.SitePath(siteId), $"{{\"timezone\":{Str(zone)}}}");
            var body = await updated.ReadJsonAsync();
            Assert.True(200 == (int)updated.StatusCode, $"{zone}: {body}");
            Assert.Equal(zone, body.GetProperty("timezone").GetString());
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task InvalidTimezonesAre400NamingTimezone(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var siteId = (await world.CreateSiteAsync("site-0", timezone: "Asia/Seoul")).GetProperty("site_id").GetInt64();
        var invalid = new List<string>
        {
            "Mars/Base", "Korea Standard Time", "Eastern Standard Time", "", "   ", "Asia/Seoul ", " Asia/Seoul", "Asia", "Asia/",
            "../../../etc/passwd", "/usr/share/zoneinfo/Asia/Seoul", "Asia/../Asia/Seoul", "+09:00", new string('A', 300),
        };

        // IANA ids are case-sensitive; where the tz database is case-sensitive (Linux), "asia/seoul" names no zone.
        if (!File.Exists("/usr/share/zoneinfo/asia/seoul") && File.Exists("/usr/share/zoneinfo/Asia/Seoul"))
        {
            invalid.Add("asia/seoul");
            invalid.Add("ASIA/SEOUL");
        }

        foreach (var zone in invalid)
        {
            var createError = await (await world.SendAsync(HttpMethod.Post, world.SitesPath(),
                $"{{\"external_site_id\":\"bad\",\"name\":\"n\",\"timezone\":{Str(zone)}}}")).ReadErrorAsync(400);
            Assert.True("timezone" == createError.GetProperty("field").GetString(), $"create {Str(zone)}: {createError}");
            var updateError = await (await world.SendAsync(HttpMethod.Put, world.SitePath(siteId), $"{{\"timezone\":{Str(zone)}}}")).ReadErrorAsync(400);
            Assert.True("timezone" == updateError.GetProperty("field").GetString(), $"update {Str(zone)}: {updateError}");
        }

        var typed = await (await world.SendAsync(HttpMethod.Post, world.SitesPath(), "{\"external_site_id\":\"bad\",\"name\":\"n\",\"timezone\":9}")).ReadErrorAsync(400);
        Assert.Equal("timezone", typed.GetProperty("field").GetString());
        Assert.Equal(1, (await (await world.SendAsync(HttpMethod.Get, world.SitesPath())).ReadJsonAsync()).GetArrayLength());
        Assert.Equal("Asia/Seoul", (await (await world.SendAsync(HttpMethod.Get, world.SitePath(siteId))).ReadJsonAsync()).GetProperty("timezone").GetString());
    }

    // ----- monitoring station --------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task AStationOfTheDealerIsAcceptedAndItsExternalIdIsShown(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var station = await world.InsertStationAsync(world.Dealer, "ms-100");
        var created = await world.CreateSiteAsync("site-1", extraJson: $",\"monitoring_station_id\":{station}");

        Assert.Equal(JsonValueKind.Number, created.GetProperty("monitoring_station_id").ValueKind);
        Assert.Equal(station, created.GetProperty("monitoring_station_id").GetInt64());
        Assert.Equal("ms-100", created.GetProperty("external_monitoring_station_id").GetString());
        var siteId = created.GetProperty("site_id").GetInt64();
        var read = await (await world.SendAsync(HttpMethod.Get, world.SitePath(siteId))).ReadJsonAsync();
        Assert.Equal(created.ToString(), read.ToString());
        var listed = Assert.Single((await (await world.SendAsync(HttpMethod.Get, world.SitesPath())).ReadJsonAsync()).EnumerateArray());
        Assert.Equal("ms-100", listed.GetProperty("external_monitoring_station_id").GetString());

        // Moving to another station of the dealer, then clearing it with null.
        var second = await world.InsertStationAsync(world.Dealer, "ms-200");
        var moved = await (await world.SendAsync(HttpMethod.Put, world.SitePath(siteId), $"{{\"monitoring_station_id\":{second}}}")).ReadJsonAsync();
        Assert.Equal(second, moved.GetProperty("monitoring_station_id").GetInt64());
        Assert.Equal("ms-200", moved.GetProperty("external_monitoring_station_id").GetString());

        var untouched = await (await world.SendAsync(HttpMethod.Put, world.SitePath(siteId), "{\"name\":\"Renamed\"}")).ReadJsonAsync();
        Assert.Equal(second, untouched.GetProperty("monitoring_station_id").GetInt64());

        var cleared = await world.SendAsync(HttpMethod.Put, world.SitePath(siteId), "{\"monitoring_station_id\":null}");
        var clearedBody = await cleared.ReadJsonAsync();
        Assert.Equal(200, (int)cleared.StatusCode);
        Assert.Equal(JsonValueKind.Null, clearedBody.GetProperty("monitoring_station_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, clearedBody.GetProperty("external_monitoring_station_id").ValueKind);
        Assert.Equal("Renamed", clearedBody.GetProperty("name").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AStationOfAnotherDealerOrAnUnknownStationIs400(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var own = await world.InsertStationAsync(world.Dealer, "ms-own");
        var foreign = await world.InsertStationAsync(world.OtherDealer, "ms-foreign");
        var siteId = (await world.CreateSiteAsync("site-1", extraJson: $",\"monitoring_station_id\":{own}")).GetProperty("site_id").GetInt64();

        foreach (var value in new[] { foreign.ToString(System.Globalization.CultureInfo.InvariantCulture), "987654", "0", "-1", $"\"{own}\"", "1.5", "true", "99999999999999999999" })
        {
            var createError = await (await world.SendAsync(HttpMethod.Post, world.SitesPath(),
                $"{{\"external_site_id\":\"site-2\",\"name\":\"n\",\"timezone\":\"UTC\",\"monitoring_station_id\":{value}}}")).ReadErrorAsync(400);
            Assert.True("monitoring_station_id" == createError.GetProperty("field").GetString(), $"create {value}: {createError}");
            var updateError = await (await world.SendAsync(HttpMethod.Put, world.SitePath(siteId), $"{{\"monitoring_station_id\":{value}}}")).ReadErrorAsync(400);
            Assert.True("monitoring_station_id" == updateError.GetProperty("field").GetString(), $"update {value}: {updateError}");
        }

        var sites = await (await world.SendAsync(HttpMethod.Get, world.SitesPath())).ReadJsonAsync();
        var site = Assert.Single(sites.EnumerateArray());
        Assert.Equal(own, site.GetProperty("monitoring_station_id").GetInt64());
        Assert.Equal(0, (await (await world.SendAsync(HttpMethod.Get, world.SitesPath(world.OtherDealer))).ReadJsonAsync()).GetArrayLength());
    }

    // ----- validation ----------------------------------------------------------------------------

    private static async Task AssertCreateIs400Async(SiteApiWorld world, string body, string field, string? code = null)
    {
        var response = await world.SendAsync(HttpMethod.Post, world.SitesPath(), body);
        Assert.True(400 == (int)response.StatusCode, $"{body}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var error = await response.ReadErrorAsync(400, code);
        Assert.True(field == error.GetProperty("field").GetString(), $"{body}: {error}");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task CreatingASiteWithoutARequiredFieldIs400(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        await AssertCreateIs400Async(world, "{\"name\":\"n\",\"timezone\":\"UTC\"}", "external_site_id", "validation_failed");
        await AssertCreateIs400Async(world, "{\"external_site_id\":\"s\",\"timezone\":\"UTC\"}", "name", "validation_failed");
        await AssertCreateIs400Async(world, "{\"external_site_id\":\"s\",\"name\":\"n\"}", "timezone", "validation_failed");
        var all = await (await world.SendAsync(HttpMethod.Post, world.SitesPath(), "{}")).ReadErrorAsync(400, "validation_failed");
        Assert.Equal(["external_site_id", "name", "timezone"], all.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("field").GetString()).Order(StringComparer.Ordinal).ToList());
        await (await world.SendAsync(HttpMethod.Post, world.SitesPath(), "")).ReadErrorAsync(400, "body_required");
        Assert.Equal(0, await world.CountAsync("SELECT COUNT(*) FROM sites", new { }));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task CreatingASiteWithNullForARequiredFieldIs400(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        await AssertCreateIs400Async(world, "{\"external_site_id\":null,\"name\":\"n\",\"timezone\":\"UTC\"}", "external_site_id");
        await AssertCreateIs400Async(world, "{\"external_site_id\":\"s\",\"name\":null,\"timezone\":\"UTC\"}", "name");
        await AssertCreateIs400Async(world, "{\"external_site_id\":\"s\",\"name\":\"n\",\"timezone\":null}", "timezone");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task CreatingASiteWithAnEmptyOrBlankRequiredStringIs400(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        foreach (var blank in new[] { "", " ", "   ", "\\t", "\\r\\n" })
        {
            await AssertCreateIs400Async(world, $"{{\"external_site_id\":\"{blank}\",\"name\":\"n\",\"timezone\":\"UTC\"}}", "external_site_id");
            await AssertCreateIs400Async(world, $"{{\"external_site_id\":\"s\",\"name\":\"{blank}\",\"timezone\":\"UTC\"}}", "name");
            await AssertCreateIs400Async(world, $"{{\"external_site_id\":\"s\",\"name\":\"n\",\"timezone\":\"{blank}\"}}", "timezone");
        }

        Assert.Equal(0, await world.CountAsync("SELECT COUNT(*) FROM sites", new { }));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task OverLengthSiteStringsAre400AndTheLimitsThemselvesAreAccepted(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        await AssertCreateIs400Async(world, $"{{\"external_site_id\":\"{new string('x', 129)}\",\"name\":\"n\",\"timezone\":\"UTC\"}}", "external_site_id", "validation_failed");
        await AssertCreateIs400Async(world, $"{{\"external_site_id\":\"s\",\"name\":\"{new string('x', 256)}\",\"timezone\":\"UTC\"}}", "name", "validation_failed");

        var atLimit = await world.CreateSiteAsync(new string('x', 128), new string('n', 255));
        Assert.Equal(128, atLimit.GetProperty("external_site_id").GetString()!.Length);
        Assert.Equal(255, atLimit.GetProperty("name").GetString()!.Length);
        var path = world.SitePath(atLimit.GetProperty("site_id").GetInt64());

        var error = await (await world.SendAsync(HttpMethod.Put, path, $"{{\"name\":\"{new string('y', 256)}\"}}")).ReadErrorAsync(400, "validation_failed");
        Assert.Equal("name", error.GetProperty("field").GetString());
        // Length counts characters, not bytes: 255 Korean syllables are a valid name.
        var korean = await world.SendAsync(HttpMethod.Put, path, $"{{\"name\":\"{new string('가', 255)}\"}}");
        Assert.Equal(200, (int)korean.StatusCode);

        // Characters are code points: an emoji is one character (two UTF-16 units), so 255 fit and 256 do not.
        var emoji = string.Concat(Enumerable.Repeat("🙂", 255));
        var emojiName = await world.SendAsync(HttpMethod.Put, path, $"{{\"name\":\"{emoji}\"}}");
        Assert.True(emojiName.StatusCode == System.Net.HttpStatusCode.OK, await emojiName.Content.ReadAsStringAsync());
        Assert.Equal(emoji, (await emojiName.ReadJsonAsync()).GetProperty("name").GetString());
        var tooMany = await (await world.SendAsync(HttpMethod.Put, path, $"{{\"name\":\"{emoji}🙂\"}}")).ReadErrorAsync(400, "validation_failed");
        Assert.Equal("name", tooMany.GetProperty("field").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task SiteFieldsOfTheWrongJsonTypeAre400(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var siteId = await world.CreateSiteIdAsync("site-1");
        foreach (var (field, value) in new[]
        {
            ("external_site_id", "123"), ("name", "42"), ("name", "true"), ("name", "[\"a\"]"), ("name", "{\"x\":1}"),
            ("timezone", "9"), ("account_number", "1001"), ("address1", "false"), ("address2", "[]"), ("monitoring_station_id", "\"1\""),
        })
        {
            var create = new Dictionary<string, string> { ["external_site_id"] = "\"s\"", ["name"] = "\"n\"", ["timezone"] = "\"UTC\"" };
            create[field] = value;
            var body = "{" + string.Join(",", create.Select(p => $"\"{p.Key}\":{p.Value}")) + "}";
            await AssertCreateIs400Async(world, body, field, "invalid_type");

            if (field != "external_site_id")
            {
                var error = await (await world.SendAsync(HttpMethod.Put, world.SitePath(siteId), $"{{\"{field}\":{value}}}")).ReadErrorAsync(400, "invalid_type");
                Assert.True(field == error.GetProperty("field").GetString(), $"update {field}={value}: {error}");
            }
        }

        foreach (var notAnObject in new[] { "[]", "\"site\"", "42", "null" })
        {
            await (await world.SendAsync(HttpMethod.Post, world.SitesPath(), notAnObject)).ReadErrorAsync(400);
            await (await world.SendAsync(HttpMethod.Put, world.SitePath(siteId), notAnObject)).ReadErrorAsync(400);
        }

        Assert.Equal(1, await world.CountAsync("SELECT COUNT(*) FROM sites", new { }));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task UnknownSiteFieldsAre400NamingTheField(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var siteId = await world.CreateSiteIdAsync("site-1");
        foreach (var unknown in new[] { "site_id", "dealer_id", "created_at", "security_type", "external_monitoring_station_id", "Name", "nickname" })
        {
            await AssertCreateIs400Async(world, $"{{\"external_site_id\":\"s\",\"name\":\"n\",\"timezone\":\"UTC\",\"{unknown}\":\"x\"}}", unknown, "unknown_field");
            var error = await (await world.SendAsync(HttpMethod.Put, world.SitePath(siteId), $"{{\"{unknown}\":\"x\"}}")).ReadErrorAsync(400, "unknown_field");
            Assert.Equal(unknown, error.GetProperty("field").GetString());
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task SiteIdsThatAreNotPositive64BitIntegersAre400NamingSiteId(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        await world.CreateSiteIdAsync("site-1");
        foreach (var bad in new[] { "abc", "0", "-1", BigId, "1.0", "1e3", "0x1" })
        {
            foreach (var (method, path, body) in new (HttpMethod, string, string?)[]
            {
                (HttpMethod.Get, world.SitePath(bad), null),
                (HttpMethod.Put, world.SitePath(bad), "{\"name\":\"x\"}"),
                (HttpMethod.Delete, world.SitePath(bad), null),
                (HttpMethod.Get, world.ArmingPath(bad), null),
                (HttpMethod.Patch, world.ArmingPath(bad), "{\"security_type\":2}"),
            })
            {
                var error = await (await world.SendAsync(method, path, body)).ReadErrorAsync(400);
                Assert.True("siteId" == error.GetProperty("field").GetString(), $"{method} {path}: {error}");
            }
        }

        Assert.Equal(1, await world.CountAsync("SELECT COUNT(*) FROM sites", new { }));
    }

    // ----- 404s ----------------------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task AnUnknownSiteIs404SiteNotFound(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        await world.CreateSiteIdAsync("site-1");
        var unknown = world.SitePath(987654);
        await (await world.SendAsync(HttpMethod.Get, unknown)).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Put, unknown, "{\"name\":\"x\"}")).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Delete, unknown)).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Get, world.SitePath(long.MaxValue))).ReadErrorAsync(404, "site_not_found");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ASiteOfAnotherDealerOfTheSamePartnerIs404AndStaysUntouched(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var foreign = await world.CreateSiteAsync("foreign", "Foreign Site", dealer: world.OtherDealer);
        var foreignId = foreign.GetProperty("site_id").GetInt64();
        await world.CreateSiteIdAsync("mine");

        // Through the first dealer's path, the other dealer's site does not exist.
        await (await world.SendAsync(HttpMethod.Get, world.SitePath(foreignId))).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Put, world.SitePath(foreignId), "{\"name\":\"Hijacked\"}")).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Delete, world.SitePath(foreignId))).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Get, world.ContactsPath(foreignId))).ReadErrorAsync(404, "site_not_found");
        var listed = await (await world.SendAsync(HttpMethod.Get, world.SitesPath())).ReadJsonAsync();
        Assert.DoesNotContain(foreignId, listed.EnumerateArray().Select(s => s.GetProperty("site_id").GetInt64()));

        var read = await world.SendAsync(HttpMethod.Get, world.SitePath(foreignId, world.OtherDealer));
        Assert.Equal(200, (int)read.StatusCode);
        Assert.Equal(foreign.ToString(), (await read.ReadJsonAsync()).ToString());
    }

    // ----- uniqueness ----------------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task ADuplicateExternalSiteIdIs409AndTheSameIdUnderAnotherDealerIsFine(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        await world.CreateSiteAsync("site-001");

        var duplicate = await world.SendAsync(HttpMethod.Post, world.SitesPath(), "{\"external_site_id\":\"site-001\",\"name\":\"Again\",\"timezone\":\"UTC\"}");
        var error = await duplicate.ReadErrorAsync(409, "conflict");
        Assert.Equal("external_site_id", error.GetProperty("field").GetString());
        Assert.Equal(1, (await (await world.SendAsync(HttpMethod.Get, world.SitesPath())).ReadJsonAsync()).GetArrayLength());

        var elsewhere = await world.CreateSiteAsync("site-001", dealer: world.OtherDealer);
        Assert.Equal("site-001", elsewhere.GetProperty("external_site_id").GetString());

        // External ids are compared exactly: another case is another id.
        await world.CreateSiteAsync("SITE-001");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ConcurrentCreatesWithTheSameExternalSiteIdMakeOneSiteAndTheOthersAre409(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => world.SendAsync(HttpMethod.Post, world.SitesPath(),
            $"{{\"external_site_id\":\"race\",\"name\":\"Racer {i}\",\"timezone\":\"UTC\"}}")));

        Assert.Single(responses, r => (int)r.StatusCode == 201);
        foreach (var response in responses.Where(r => (int)r.StatusCode != 201))
        {
            var error = await response.ReadErrorAsync(409, "conflict");
            Assert.Equal("external_site_id", error.GetProperty("field").GetString());
        }

        Assert.Equal(1, await world.CountAsync("SELECT COUNT(*) FROM sites WHERE external_site_id = 'race'", new { }));
    }

    // ----- lists ---------------------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task SiteListsArePagedWithLimitAfterAndALinkToTheNextPage(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await world.CreateSiteIdAsync($"site-{i}"));
            await world.CreateSiteIdAsync($"other-{i}", world.OtherDealer);
        }

        foreach (var limit in new[] { 1, 2, 3, 4, 5, 6, 1000 })
        {
            Assert.Equal(ids, await world.ReadAllPagesAsync($"{world.SitesPath()}?limit={limit}", limit, "site_id"));
        }

        var afterFirst = await (await world.SendAsync(HttpMethod.Get, $"{world.SitesPath()}?after={ids[0]}")).ReadJsonAsync();
        Assert.Equal(ids.Skip(1), afterFirst.EnumerateArray().Select(s => s.GetProperty("site_id").GetInt64()));
        var afterLast = await world.SendAsync(HttpMethod.Get, $"{world.SitesPath()}?limit=2&after={ids[^1]}");
        Assert.Equal(200, (int)afterLast.StatusCode);
        Assert.Equal(0, (await afterLast.ReadJsonAsync()).GetArrayLength());
        Assert.False(afterLast.Headers.Contains("Link"));
        var exact = await world.SendAsync(HttpMethod.Get, $"{world.SitesPath()}?limit=5");
        Assert.False(exact.Headers.Contains("Link"));
        Assert.Equal(5, (await exact.ReadJsonAsync()).GetArrayLength());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task BadPagingParametersAndUnknownQueryParametersAre400(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        await world.CreateSiteIdAsync("site-1");
        foreach (var (query, field) in new[]
        {
            ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=abc", "limit"), ("limit=-1", "limit"), ("limit=", "limit"), ("limit=2.5", "limit"),
            ("after=-1", "after"), ("after=abc", "after"), ($"after={BigId}", "after"),
        })
        {
            var error = await (await world.SendAsync(HttpMethod.Get, $"{world.SitesPath()}?{query}")).ReadErrorAsync(400);
            Assert.True(field == error.GetProperty("field").GetString(), $"{query}: {error}");
        }

        var unknown = await (await world.SendAsync(HttpMethod.Get, $"{world.SitesPath()}?page=2")).ReadErrorAsync(400, "unknown_parameter");
        Assert.Equal("page", unknown.GetProperty("field").GetString());
        var mixed = await (await world.SendAsync(HttpMethod.Get, $"{world.SitesPath()}?limit=10&offset=5")).ReadErrorAsync(400, "unknown_parameter");
        Assert.Equal("offset", mixed.GetProperty("field").GetString());
    }

    // ----- ETags ---------------------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task SiteWritesHonourIfMatch(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var siteId = await world.CreateSiteIdAsync("site-1");
        var path = world.SitePath(siteId);
        var first = (await world.SendAsync(HttpMethod.Get, path)).Headers.ETag!.ToString();

        var updated = await world.SendAsync(HttpMethod.Put, path, "{\"name\":\"Second\"}", ifMatch: first);
        Assert.Equal(200, (int)updated.StatusCode);
        var second = updated.Headers.ETag!.ToString();
        Assert.NotEqual(first, second);
        Assert.Equal(second, (await world.SendAsync(HttpMethod.Get, path)).Headers.ETag!.ToString());

        await (await world.SendAsync(HttpMethod.Put, path, "{\"name\":\"Stale\"}", ifMatch: first)).ReadErrorAsync(412, "precondition_failed");
        Assert.Equal("Second", (await (await world.SendAsync(HttpMethod.Get, path)).ReadJsonAsync()).GetProperty("name").GetString());

        // Arming settings share the site's version.
        var armed = await world.SendAsync(HttpMethod.Patch, world.ArmingPath(siteId), "{\"security_type\":2}", ifMatch: second);
        Assert.Equal(200, (int)armed.StatusCode);
        var third = armed.Headers.ETag!.ToString();
        await (await world.SendAsync(HttpMethod.Patch, world.ArmingPath(siteId), "{\"security_type\":4}", ifMatch: second)).ReadErrorAsync(412, "precondition_failed");

        await (await world.SendAsync(HttpMethod.Delete, path, ifMatch: second)).ReadErrorAsync(412, "precondition_failed");
        Assert.Equal(200, (int)(await world.SendAsync(HttpMethod.Get, path)).StatusCode);

        var deleted = await world.SendAsync(HttpMethod.Delete, path, ifMatch: third);
        Assert.Equal(204, (int)deleted.StatusCode);
        await (await world.SendAsync(HttpMethod.Get, path)).ReadErrorAsync(404, "site_not_found");
    }

    // ----- scopes --------------------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task EachSiteEndpointNeedsItsScope(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var siteId = await world.CreateSiteIdAsync("site-1");
        var securityType = (await (await world.SendAsync(HttpMethod.Get, world.ArmingPath(siteId))).ReadJsonAsync()).GetProperty("security_type").GetInt32();
        var readOnly = await Seed.ClientCredentialsTokenAsync(world.App, world.Client, scope: "read:sites");
        var createOnly = await Seed.ClientCredentialsTokenAsync(world.App, world.Client, scope: "create:sites read:site_contacts");

        var create = await world.SendAsync(HttpMethod.Post, world.SitesPath(), "{\"external_site_id\":\"s2\",\"name\":\"n\",\"timezone\":\"UTC\"}", readOnly);
        await create.ReadErrorAsync(403, "insufficient_scope");
        Assert.Contains("create:sites", create.Headers.WwwAuthenticate.Single().Parameter, StringComparison.Ordinal);
        await (await world.SendAsync(HttpMethod.Put, world.SitePath(siteId), "{\"name\":\"x\"}", readOnly)).ReadErrorAsync(403, "insufficient_scope");
        await (await world.SendAsync(HttpMethod.Delete, world.SitePath(siteId), token: readOnly)).ReadErrorAsync(403, "insufficient_scope");
        await (await world.SendAsync(HttpMethod.Patch, world.ArmingPath(siteId), "{\"security_type\":2}", readOnly)).ReadErrorAsync(403, "insufficient_scope");
        Assert.Equal(200, (int)(await world.SendAsync(HttpMethod.Get, world.SitePath(siteId), token: readOnly)).StatusCode);
        Assert.Equal(200, (int)(await world.SendAsync(HttpMethod.Get, world.SitesPath(), token: readOnly)).StatusCode);
        Assert.Equal(200, (int)(await world.SendAsync(HttpMethod.Get, world.ArmingPath(siteId), token: readOnly)).StatusCode);

        await (await world.SendAsync(HttpMethod.Get, world.SitesPath(), token: createOnly)).ReadErrorAsync(403, "insufficient_scope");
        await (await world.SendAsync(HttpMethod.Get, world.SitePath(siteId), token: createOnly)).ReadErrorAsync(403, "insufficient_scope");
        await (await world.SendAsync(HttpMethod.Get, world.ArmingPath(siteId), token: createOnly)).ReadErrorAsync(403, "insufficient_scope");
        Assert.Equal(201, (int)(await world.SendAsync(HttpMethod.Post, world.SitesPath(), "{\"external_site_id\":\"s3\",\"name\":\"n\",\"timezone\":\"UTC\"}", createOnly)).StatusCode);

        var sites = await (await world.SendAsync(HttpMethod.Get, world.SitesPath())).ReadJsonAsync();
        Assert.Equal(["site-1", "s3"], sites.EnumerateArray().Select(s => s.GetProperty("external_site_id").GetString()).ToList());
        var site = await (await world.SendAsync(HttpMethod.Get, world.SitePath(siteId))).ReadJsonAsync();
        Assert.Equal("Main Office", site.GetProperty("name").GetString());
        Assert.Equal(securityType, (await (await world.SendAsync(HttpMethod.Get, world.ArmingPath(siteId))).ReadJsonAsync()).GetProperty("security_type").GetInt32());
    }
}
