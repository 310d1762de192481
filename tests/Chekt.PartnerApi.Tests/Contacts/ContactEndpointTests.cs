using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using static Chekt.PartnerApi.Tests.Infrastructure.SiteApiWorld;

namespace Chekt.PartnerApi.Tests.Contacts;

/// <summary>
/// The Contacts API (seed 002, spec §5 with §2.3, §2.4 and §7): the seed's examples sent as
/// written, partial updates, validation, 404s, uniqueness, paging, ETags and scopes.
/// </summary>
public sealed class ContactEndpointTests
{
    // The seed's request bodies, exactly as written there.
    private const string SeedCreateBody =
        """
        {
          "external_contact_id": "1234",
          "first_name": "John",
          "last_name": "Doe",
          "phone_number": "1234567890",
          "email": "john.doe@example.com"
        }
        """;

    private const string SeedUpdateBody =
        """
        {
          "first_name": "Jane",
          "last_name": "Smith",
          "phone_number": "9876543210",
          "email": "jane.smith@example.com"
        }
        """;

    private static string BigId => new('9', 20);

    private static async Task<(SiteApiWorld World, long SiteId)> StartWithSiteAsync(DatabaseProvider provider)
    {
        var world = await StartAsync(provider);
        return (world, await world.CreateSiteIdAsync("site-1"));
    }

    /// <summary>The seed's contact object: exactly its fields, in its order, with its JSON types.</summary>
    private static void AssertSeedContact(JsonElement contact, string firstName, string lastName, string phone, string email)
    {
        AssertFields(ContactFields, contact);
        Assert.Equal(JsonValueKind.Number, contact.GetProperty("contact_id").ValueKind);
        Assert.True(contact.GetProperty("contact_id").GetInt64() > 0);
        Assert.Equal(JsonValueKind.String, contact.GetProperty("external_contact_id").ValueKind);
        Assert.Equal("1234", contact.GetProperty("external_contact_id").GetString());
        Assert.Equal(firstName, contact.GetProperty("first_name").GetString());
        Assert.Equal(lastName, contact.GetProperty("last_name").GetString());
        Assert.Equal(JsonValueKind.String, contact.GetProperty("phone_number").ValueKind);
        Assert.Equal(phone, contact.GetProperty("phone_number").GetString());
        Assert.Equal(email, contact.GetProperty("email").GetString());
        Assert.Equal(JsonValueKind.String, contact.GetProperty("created_at").ValueKind);
        Assert.Matches(TimestampPattern, contact.GetProperty("created_at").GetString());
    }

    private static async Task<JsonElement> CreateSeedContactAsync(SiteApiWorld world, long siteId)
    {
        var response = await world.SendAsync(HttpMethod.Post, world.ContactsPath(siteId), SeedCreateBody);
        Assert.Equal(201, (int)response.StatusCode);
        return await response.ReadJsonAsync();
    }

    // ----- the seed's examples, as written -------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task CreatingTheSeedsContactAnswers201WithTheDocumentedObject(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var response = await world.SendAsync(HttpMethod.Post, world.ContactsPath(siteId), SeedCreateBody);
        var body = await response.ReadJsonAsync();

        Assert.Equal(201, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        AssertSeedContact(body, "John", "Doe", "1234567890", "john.doe@example.com");
        var contactId = body.GetProperty("contact_id").GetInt64();
        Assert.Equal(world.ContactPath(siteId, contactId), response.Headers.Location?.OriginalString);
        Assert.NotNull(response.Headers.ETag);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ListingTheSeedsContactsAnswersAnArrayOfContacts(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var created = await CreateSeedContactAsync(world, siteId);

        var response = await world.SendAsync(HttpMethod.Get, world.ContactsPath(siteId));
        var body = await response.ReadJsonAsync();
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(JsonValueKind.Array, body.ValueKind);
        var contact = Assert.Single(body.EnumerateArray());
        AssertSeedContact(contact, "John", "Doe", "1234567890", "john.doe@example.com");
        Assert.Equal(created.ToString(), contact.ToString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task GettingTheSeedsContactAnswersIt(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var created = await CreateSeedContactAsync(world, siteId);

        var response = await world.SendAsync(HttpMethod.Get, world.ContactPath(siteId, created.GetProperty("contact_id").GetInt64()));
        var body = await response.ReadJsonAsync();
        Assert.Equal(200, (int)response.StatusCode);
        AssertSeedContact(body, "John", "Doe", "1234567890", "john.doe@example.com");
        Assert.Equal(created.ToString(), body.ToString());
        Assert.NotNull(response.Headers.ETag);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task UpdatingWithTheSeedsBodyAnswersTheUpdatedContact(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var created = await CreateSeedContactAsync(world, siteId);
        var path = world.ContactPath(siteId, created.GetProperty("contact_id").GetInt64());

        var response = await world.SendAsync(HttpMethod.Put, path, SeedUpdateBody);
        var body = await response.ReadJsonAsync();
        Assert.Equal(200, (int)response.StatusCode);
        AssertSeedContact(body, "Jane", "Smith", "9876543210", "jane.smith@example.com");
        Assert.Equal(created.GetProperty("contact_id").GetInt64(), body.GetProperty("contact_id").GetInt64());
        Assert.Equal(created.GetProperty("created_at").GetString(), body.GetProperty("created_at").GetString());
        Assert.NotNull(response.Headers.ETag);
        Assert.Equal(body.ToString(), (await (await world.SendAsync(HttpMethod.Get, path)).ReadJsonAsync()).ToString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task DeletingTheSeedsContactAnswers204WithAnEmptyBody(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var created = await CreateSeedContactAsync(world, siteId);
        var contactId = created.GetProperty("contact_id").GetInt64();

        var response = await world.SendAsync(HttpMethod.Delete, world.ContactPath(siteId, contactId));
        Assert.Equal(204, (int)response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());

        await (await world.SendAsync(HttpMethod.Get, world.ContactPath(siteId, contactId))).ReadErrorAsync(404, "contact_not_found");
        await (await world.SendAsync(HttpMethod.Delete, world.ContactPath(siteId, contactId))).ReadErrorAsync(404, "contact_not_found");
        Assert.Equal(0, (await (await world.SendAsync(HttpMethod.Get, world.ContactsPath(siteId))).ReadJsonAsync()).GetArrayLength());
        Assert.Equal(0, await world.CountAsync("SELECT COUNT(*) FROM contacts WHERE id = @contactId", new { contactId }));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AContactWithoutPhoneOrEmailHasNullForThem(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var absent = await world.CreateContactAsync(siteId, "c-1");
        AssertFields(ContactFields, absent);
        Assert.Equal(JsonValueKind.Null, absent.GetProperty("phone_number").ValueKind);
        Assert.Equal(JsonValueKind.Null, absent.GetProperty("email").ValueKind);

        var explicitNull = await world.CreateContactAsync(siteId, "c-2", extraJson: ",\"phone_number\":null,\"email\":null");
        Assert.Equal(JsonValueKind.Null, explicitNull.GetProperty("phone_number").ValueKind);
        Assert.Equal(JsonValueKind.Null, explicitNull.GetProperty("email").ValueKind);
    }

    // ----- partial update ------------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task UpdatingAContactChangesOnlyTheFieldsSentAndNullClearsPhoneAndEmail(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var created = await CreateSeedContactAsync(world, siteId);
        var path = world.ContactPath(siteId, created.GetProperty("contact_id").GetInt64());

        var renamed = await (await world.SendAsync(HttpMethod.Put, path, "{\"first_name\":\"Johnny\"}")).ReadJsonAsync();
        AssertSeedContact(renamed, "Johnny", "Doe", "1234567890", "john.doe@example.com");

        var phoneCleared = await world.SendAsync(HttpMethod.Put, path, "{\"phone_number\":null}");
        var phoneBody = await phoneCleared.ReadJsonAsync();
        Assert.Equal(200, (int)phoneCleared.StatusCode);
        AssertFields(ContactFields, phoneBody);
        Assert.Equal(JsonValueKind.Null, phoneBody.GetProperty("phone_number").ValueKind);
        Assert.Equal("john.doe@example.com", phoneBody.GetProperty("email").GetString());
        Assert.Equal("Johnny", phoneBody.GetProperty("first_name").GetString());

        var emailCleared = await (await world.SendAsync(HttpMethod.Put, path, "{\"email\":null,\"last_name\":\"Roe\"}")).ReadJsonAsync();
        Assert.Equal(JsonValueKind.Null, emailCleared.GetProperty("email").ValueKind);
        Assert.Equal(JsonValueKind.Null, emailCleared.GetProperty("phone_number").ValueKind);
        Assert.Equal("Roe", emailCleared.GetProperty("last_name").GetString());
        Assert.Equal("1234", emailCleared.GetProperty("external_contact_id").GetString());
        Assert.Equal(created.GetProperty("created_at").GetString(), emailCleared.GetProperty("created_at").GetString());

        var restored = await (await world.SendAsync(HttpMethod.Put, path, "{\"phone_number\":\"+1 (555) 123-4567\"}")).ReadJsonAsync();
        Assert.Equal("+1 (555) 123-4567", restored.GetProperty("phone_number").GetString());
        Assert.Equal(restored.ToString(), (await (await world.SendAsync(HttpMethod.Get, path)).ReadJsonAsync()).ToString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnEmptyContactUpdateChangesNothingAndAnswers200(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var created = await CreateSeedContactAsync(world, siteId);
        var path = world.ContactPath(siteId, created.GetProperty("contact_id").GetInt64());

        var response = await world.SendAsync(HttpMethod.Put, path, "{}");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(created.ToString(), (await response.ReadJsonAsync()).ToString());
        Assert.Equal(created.ToString(), (await (await world.SendAsync(HttpMethod.Get, path)).ReadJsonAsync()).ToString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task UpdatingARequiredContactFieldToNullOrBlankIs400(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var created = await CreateSeedContactAsync(world, siteId);
        var path = world.ContactPath(siteId, created.GetProperty("contact_id").GetInt64());
        foreach (var field in new[] { "first_name", "last_name" })
        {
            foreach (var value in new[] { "null", "\"\"", "\"   \"", "\"\\t\"" })
            {
                var error = await (await world.SendAsync(HttpMethod.Put, path, $"{{\"{field}\":{value}}}")).ReadErrorAsync(400, "validation_failed");
                Assert.True(field == error.GetProperty("field").GetString(), $"{field}={value}: {error}");
            }
        }

        Assert.Equal(created.ToString(), (await (await world.SendAsync(HttpMethod.Get, path)).ReadJsonAsync()).ToString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ExternalContactIdCannotBeSentToAnUpdate(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var created = await CreateSeedContactAsync(world, siteId);
        var path = world.ContactPath(siteId, created.GetProperty("contact_id").GetInt64());

        var error = await (await world.SendAsync(HttpMethod.Put, path, "{\"external_contact_id\":\"5678\"}")).ReadErrorAsync(400, "unknown_field");
        Assert.Equal("external_contact_id", error.GetProperty("field").GetString());
        Assert.Equal(created.ToString(), (await (await world.SendAsync(HttpMethod.Get, path)).ReadJsonAsync()).ToString());
    }

    // ----- validation ----------------------------------------------------------------------------

    private static string CreateBody(string? externalContactId = "\"c-1\"", string? firstName = "\"John\"", string? lastName = "\"Doe\"", string extra = "")
    {
        var fields = new List<string>();
        if (externalContactId is not null)
        {
            fields.Add($"\"external_contact_id\":{externalContactId}");
        }

        if (firstName is not null)
        {
            fields.Add($"\"first_name\":{firstName}");
        }

        if (lastName is not null)
        {
            fields.Add($"\"last_name\":{lastName}");
        }

        return "{" + string.Join(",", fields) + extra + "}";
    }

    private static async Task AssertCreateIs400Async(SiteApiWorld world, long siteId, string body, string field, string? code = null)
    {
        var response = await world.SendAsync(HttpMethod.Post, world.ContactsPath(siteId), body);
        Assert.True(400 == (int)response.StatusCode, $"{body}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var error = await response.ReadErrorAsync(400, code);
        Assert.True(field == error.GetProperty("field").GetString(), $"{body}: {error}");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task CreatingAContactWithoutARequiredFieldIs400(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        await AssertCreateIs400Async(world, siteId, CreateBody(externalContactId: null), "external_contact_id", "validation_failed");
        await AssertCreateIs400Async(world, siteId, CreateBody(firstName: null), "first_name", "validation_failed");
        await AssertCreateIs400Async(world, siteId, CreateBody(lastName: null), "last_name", "validation_failed");
        var all = await (await world.SendAsync(HttpMethod.Post, world.ContactsPath(siteId), "{\"email\":\"a@example.com\"}")).ReadErrorAsync(400, "validation_failed");
        Assert.Equal(["external_contact_id", "first_name", "last_name"],
            all.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("field").GetString()).Order(StringComparer.Ordinal).ToList());
        await (await world.SendAsync(HttpMethod.Post, world.ContactsPath(siteId), "")).ReadErrorAsync(400, "body_required");
        Assert.Equal(0, await world.CountAsync("SELECT COUNT(*) FROM contacts", new { }));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task CreatingAContactWithNullForARequiredFieldIs400(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        await AssertCreateIs400Async(world, siteId, CreateBody(externalContactId: "null"), "external_contact_id", "validation_failed");
        await AssertCreateIs400Async(world, siteId, CreateBody(firstName: "null"), "first_name", "validation_failed");
        await AssertCreateIs400Async(world, siteId, CreateBody(lastName: "null"), "last_name", "validation_failed");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task CreatingAContactWithAnEmptyOrBlankRequiredStringIs400(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        foreach (var blank in new[] { "\"\"", "\" \"", "\"    \"", "\"\\t\\n\"" })
        {
            await AssertCreateIs400Async(world, siteId, CreateBody(externalContactId: blank), "external_contact_id", "validation_failed");
            await AssertCreateIs400Async(world, siteId, CreateBody(firstName: blank), "first_name", "validation_failed");
            await AssertCreateIs400Async(world, siteId, CreateBody(lastName: blank), "last_name", "validation_failed");
        }

        Assert.Equal(0, await world.CountAsync("SELECT COUNT(*) FROM contacts", new { }));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task OverLengthContactStringsAre400AndTheLimitsThemselvesAreAccepted(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        // 254 characters: a 64-character local part and a 189-character host name of labels up to 63.
        var email254 = $"{new string('a', 64)}@{new string('b', 63)}.{new string('c', 63)}.{new string('d', 57)}.com";
        var email255 = $"{new string('a', 64)}@{new string('b', 63)}.{new string('c', 63)}.{new string('d', 58)}.com";
        Assert.Equal(254, email254.Length);
        Assert.Equal(255, email255.Length);
        const string phone32 = "1-2-3-4-5-6-7-8-9-0-1-2-3-4-5-67"; // 17 digits
        const string phone33 = "1-2-3-4-5-6-7-8-9-0-1-2-3-4-5-6-7"; // 17 digits
        Assert.Equal(32, phone32.Length);
        Assert.Equal(33, phone33.Length);

        await AssertCreateIs400Async(world, siteId, CreateBody(externalContactId: Str(new string('x', 129))), "external_contact_id", "validation_failed");
        await AssertCreateIs400Async(world, siteId, CreateBody(firstName: Str(new string('x', 256))), "first_name", "validation_failed");
        await AssertCreateIs400Async(world, siteId, CreateBody(lastName: Str(new string('x', 256))), "last_name", "validation_failed");
        await AssertCreateIs400Async(world, siteId, CreateBody(extra: $",\"email\":{Str(email255)}"), "email", "validation_failed");
        await AssertCreateIs400Async(world, siteId, CreateBody(extra: $",\"phone_number\":{Str(phone33)}"), "phone_number", "validation_failed");
        Assert.Equal(0, await world.CountAsync("SELECT COUNT(*) FROM contacts", new { }));

        var atLimit = await world.CreateContactAsync(siteId, new string('x', 128), new string('f', 255), new string('l', 255),
            extraJson: $",\"email\":{Str(email254)},\"phone_number\":{Str(phone32)}");
        Assert.Equal(email254, atLimit.GetProperty("email").GetString());
        Assert.Equal(phone32, atLimit.GetProperty("phone_number").GetString());
        Assert.Equal(128, atLimit.GetProperty("external_contact_id").GetString()!.Length);

        var path = world.ContactPath(siteId, atLimit.GetProperty("contact_id").GetInt64());
        foreach (var (body, field) in new[]
        {
            ($"{{\"first_name\":{Str(new string('y', 256))}}}", "first_name"),
            ($"{{\"last_name\":{Str(new string('y', 256))}}}", "last_name"),
            ($"{{\"email\":{Str(email255)}}}", "email"),
            ($"{{\"phone_number\":{Str(phone33)}}}", "phone_number"),
        })
        {
            var error = await (await world.SendAsync(HttpMethod.Put, path, body)).ReadErrorAsync(400, "validation_failed");
            Assert.Equal(field, error.GetProperty("field").GetString());
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task InvalidEmailsAre400(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var contactId = await world.CreateContactIdAsync(siteId, "c-1");
        foreach (var email in new[]
        {
            "", " ", "john.doe", "john.doe@", "@example.com", "john doe@example.com", "john.doe@example", "john..doe@example.com",
            ".john@example.com", "john.@example.com", "john@@example.com", "john@exa mple.com", "john@-example.com", "john@example..com",
            "john.doe@example.com ", "<john.doe@example.com>", "John Doe <john.doe@example.com>", "john@example.com\n",
        })
        {
            await AssertCreateIs400Async(world, siteId, CreateBody(externalContactId: "\"c-2\"", extra: $",\"email\":{Str(email)}"), "email", "validation_failed");
            var error = await (await world.SendAsync(HttpMethod.Put, world.ContactPath(siteId, contactId), $"{{\"email\":{Str(email)}}}")).ReadErrorAsync(400, "validation_failed");
            Assert.True("email" == error.GetProperty("field").GetString(), $"{Str(email)}: {error}");
        }

        foreach (var email in new[] { "john.doe@example.com", "john.doe+alarms@sub.example.co.kr", "o'brien@example.org", "JOHN@EXAMPLE.COM" })
        {
            var response = await world.SendAsync(HttpMethod.Put, world.ContactPath(siteId, contactId), $"{{\"email\":{Str(email)}}}");
            Assert.True(200 == (int)response.StatusCode, $"{email}: {await response.Content.ReadAsStringAsync()}");
        }

        Assert.Equal(1, await world.CountAsync("SELECT COUNT(*) FROM contacts", new { }));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task InvalidPhoneNumbersAre400AndTheAllowedPunctuationIsAccepted(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var contactId = await world.CreateContactIdAsync(siteId, "c-1");
        foreach (var phone in new[]
        {
            "call me", "555-CALL-NOW", "123456789a", "1234567890 ext 5", "+1 555 123 4567 x2", "++1 555 123 4567", "1+555123",
            "555_123_4567", "555/123/4567", "+", "#1234567", "１２３４５６７８９０", "555\t123\t4567", "1234567890\n", "+1 555 123 4567\n",
        })
        {
            await AssertCreateIs400Async(world, siteId, CreateBody(externalContactId: "\"c-2\"", extra: $",\"phone_number\":{Str(phone)}"), "phone_number", "validation_failed");
            var error = await (await world.SendAsync(HttpMethod.Put, world.ContactPath(siteId, contactId), $"{{\"phone_number\":{Str(phone)}}}")).ReadErrorAsync(400, "validation_failed");
            Assert.True("phone_number" == error.GetProperty("field").GetString(), $"{Str(phone)}: {error}");
        }

        foreach (var phone in new[] { "1234567890", "+1 (555) 123-4567", "555.123.4567", "+82 10-1234-5678", "(02) 555 0100", "+44 20 7946 0958" })
        {
            var response = await world.SendAsync(HttpMethod.Put, world.ContactPath(siteId, contactId), $"{{\"phone_number\":{Str(phone)}}}");
            var body = await response.ReadJsonAsync();
            Assert.True(200 == (int)response.StatusCode, $"{phone}: {body}");
            Assert.Equal(phone, body.GetProperty("phone_number").GetString());
        }

        Assert.Equal(1, await world.CountAsync("SELECT COUNT(*) FROM contacts", new { }));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ContactFieldsOfTheWrongJsonTypeAre400(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var contactId = await world.CreateContactIdAsync(siteId, "c-1");
        foreach (var (field, value) in new[]
        {
            ("external_contact_id", "1234"), ("first_name", "42"), ("first_name", "true"), ("last_name", "[\"Doe\"]"),
            ("phone_number", "1234567890"), ("email", "{\"address\":\"a@example.com\"}"), ("email", "false"),
        })
        {
            var create = new Dictionary<string, string> { ["external_contact_id"] = "\"c-2\"", ["first_name"] = "\"John\"", ["last_name"] = "\"Doe\"" };
            create[field] = value;
            await AssertCreateIs400Async(world, siteId, "{" + string.Join(",", create.Select(p => $"\"{p.Key}\":{p.Value}")) + "}", field, "invalid_type");

            if (field != "external_contact_id")
            {
                var error = await (await world.SendAsync(HttpMethod.Put, world.ContactPath(siteId, contactId), $"{{\"{field}\":{value}}}")).ReadErrorAsync(400, "invalid_type");
                Assert.True(field == error.GetProperty("field").GetString(), $"update {field}={value}: {error}");
            }
        }

        foreach (var notAnObject in new[] { "[]", "[" + SeedCreateBody + "]", "\"John\"", "null" })
        {
            await (await world.SendAsync(HttpMethod.Post, world.ContactsPath(siteId), notAnObject)).ReadErrorAsync(400);
            await (await world.SendAsync(HttpMethod.Put, world.ContactPath(siteId, contactId), notAnObject)).ReadErrorAsync(400);
        }

        Assert.Equal(1, await world.CountAsync("SELECT COUNT(*) FROM contacts", new { }));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task UnknownContactFieldsAre400NamingTheField(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var contactId = await world.CreateContactIdAsync(siteId, "c-1");
        foreach (var unknown in new[] { "contact_id", "site_id", "created_at", "phone", "First_Name", "firstName", "mobile_number" })
        {
            await AssertCreateIs400Async(world, siteId, CreateBody(externalContactId: "\"c-2\"", extra: $",\"{unknown}\":\"x\""), unknown, "unknown_field");
            var error = await (await world.SendAsync(HttpMethod.Put, world.ContactPath(siteId, contactId), $"{{\"first_name\":\"Jo\",\"{unknown}\":\"x\"}}")).ReadErrorAsync(400, "unknown_field");
            Assert.Equal(unknown, error.GetProperty("field").GetString());
        }

        Assert.Equal("John", (await (await world.SendAsync(HttpMethod.Get, world.ContactPath(siteId, contactId))).ReadJsonAsync()).GetProperty("first_name").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task PathIdsThatAreNotPositive64BitIntegersAre400NamingThePathParameter(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var contactId = await world.CreateContactIdAsync(siteId, "c-1");
        foreach (var bad in new[] { "abc", "0", "-1", BigId, "1.0", "1e3" })
        {
            foreach (var (method, path, body, field) in new (HttpMethod, string, string?, string)[]
            {
                (HttpMethod.Get, world.ContactPath(siteId, bad), null, "contactId"),
                (HttpMethod.Put, world.ContactPath(siteId, bad), "{\"first_name\":\"x\"}", "contactId"),
                (HttpMethod.Delete, world.ContactPath(siteId, bad), null, "contactId"),
                (HttpMethod.Get, world.ContactsPath(bad), null, "siteId"),
                (HttpMethod.Post, world.ContactsPath(bad), SeedCreateBody, "siteId"),
                (HttpMethod.Get, world.ContactPath(bad, contactId), null, "siteId"),
                (HttpMethod.Put, world.ContactPath(bad, contactId), "{\"first_name\":\"x\"}", "siteId"),
                (HttpMethod.Delete, world.ContactPath(bad, contactId), null, "siteId"),
            })
            {
                var error = await (await world.SendAsync(method, path, body)).ReadErrorAsync(400);
                Assert.True(field == error.GetProperty("field").GetString(), $"{method} {path}: {error}");
            }
        }

        Assert.Equal(1, await world.CountAsync("SELECT COUNT(*) FROM contacts", new { }));
    }

    // ----- 404s ----------------------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task AContactOfAnotherSiteOfTheSameDealerIs404OnThisSitesPath(DatabaseProvider provider)
    {
        // GET contact reads the contact in the access query: it must still be the path site's contact.
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var otherSiteId = await world.CreateSiteIdAsync("site-other");
        var otherContactId = await world.CreateContactIdAsync(otherSiteId, "c-other");

        await (await world.SendAsync(HttpMethod.Get, world.ContactPath(siteId, otherContactId))).ReadErrorAsync(404, "contact_not_found");
        var found = await (await world.SendAsync(HttpMethod.Get, world.ContactPath(otherSiteId, otherContactId))).ReadJsonAsync();
        Assert.Equal("c-other", found.GetProperty("external_contact_id").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ABodyThatIsNotValidUtf8Is400AndStoresNothingWhileRawUnicodeIsKept(DatabaseProvider provider)
    {
        // An encoded surrogate, an overlong NUL, a stray byte, a cut sequence: the body is refused before any field is read.
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        foreach (var invalid in new byte[][] { [0xED, 0xA0, 0x80], [0xC0, 0x80], [0xFF], [0x41, 0xE2, 0x82] })
        {
            using var request = Seed.Authorized(HttpMethod.Post, world.ContactsPath(siteId), world.Token);
            request.Content = new ByteArrayContent([.. "{\"external_contact_id\":\"c\",\"first_name\":\""u8, .. invalid, .. "\",\"last_name\":\"Doe\"}"u8]);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            var error = await (await world.App.Client.SendAsync(request)).ReadErrorAsync(400, "malformed_json");
            Assert.Contains("UTF-8", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(0, await world.CountAsync("SELECT COUNT(*) FROM contacts", new { }));
        var created = await (await world.SendAsync(HttpMethod.Post, world.ContactsPath(siteId),
            "{\"external_contact_id\":\"c\",\"first_name\":\"Zoë 😀\",\"last_name\":\"Doe\"}")).ReadJsonAsync();
        Assert.Equal("Zoë 😀", created.GetProperty("first_name").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnUnknownContactIs404ContactNotFoundAndAnUnknownSiteIs404SiteNotFound(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var contactId = await world.CreateContactIdAsync(siteId, "c-1");

        await (await world.SendAsync(HttpMethod.Get, world.ContactPath(siteId, 987654))).ReadErrorAsync(404, "contact_not_found");
        await (await world.SendAsync(HttpMethod.Put, world.ContactPath(siteId, 987654), "{\"first_name\":\"x\"}")).ReadErrorAsync(404, "contact_not_found");
        await (await world.SendAsync(HttpMethod.Delete, world.ContactPath(siteId, 987654))).ReadErrorAsync(404, "contact_not_found");
        await (await world.SendAsync(HttpMethod.Get, world.ContactPath(siteId, long.MaxValue))).ReadErrorAsync(404, "contact_not_found");

        await (await world.SendAsync(HttpMethod.Get, world.ContactsPath(987654))).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Post, world.ContactsPath(987654), SeedCreateBody)).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Get, world.ContactPath(987654, contactId))).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Put, world.ContactPath(987654, contactId), "{\"first_name\":\"x\"}")).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Delete, world.ContactPath(987654, contactId))).ReadErrorAsync(404, "site_not_found");
        Assert.Equal(1, await world.CountAsync("SELECT COUNT(*) FROM contacts", new { }));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AContactOfAnotherSiteOfTheSameDealerIs404ContactNotFound(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var otherSite = await world.CreateSiteIdAsync("site-2");
        var theirs = await CreateSeedContactAsync(world, otherSite);
        var theirId = theirs.GetProperty("contact_id").GetInt64();
        var mine = await world.CreateContactIdAsync(siteId, "mine");

        // Through the first site's path, the other site's contact is exactly as unknown as an id that never existed.
        var viaWrongSite = world.ContactPath(siteId, theirId);
        var get = await (await world.SendAsync(HttpMethod.Get, viaWrongSite)).ReadErrorAsync(404, "contact_not_found");
        var never = await (await world.SendAsync(HttpMethod.Get, world.ContactPath(siteId, 987654))).ReadErrorAsync(404, "contact_not_found");
        Assert.Equal(never.GetProperty("message").GetString()!.Replace("987654", "ID", StringComparison.Ordinal),
            get.GetProperty("message").GetString()!.Replace(theirId.ToString(System.Globalization.CultureInfo.InvariantCulture), "ID", StringComparison.Ordinal));
        await (await world.SendAsync(HttpMethod.Put, viaWrongSite, "{\"first_name\":\"Hijacked\"}")).ReadErrorAsync(404, "contact_not_found");
        await (await world.SendAsync(HttpMethod.Put, viaWrongSite, "{}")).ReadErrorAsync(404, "contact_not_found");
        await (await world.SendAsync(HttpMethod.Delete, viaWrongSite)).ReadErrorAsync(404, "contact_not_found");

        var list = await (await world.SendAsync(HttpMethod.Get, world.ContactsPath(siteId))).ReadJsonAsync();
        Assert.Equal([mine], list.EnumerateArray().Select(c => c.GetProperty("contact_id").GetInt64()).ToList());
        var still = await world.SendAsync(HttpMethod.Get, world.ContactPath(otherSite, theirId));
        Assert.Equal(200, (int)still.StatusCode);
        Assert.Equal(theirs.ToString(), (await still.ReadJsonAsync()).ToString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ContactsOfASiteOfAnotherDealerAre404(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var foreignSite = await world.CreateSiteIdAsync("foreign", world.OtherDealer);
        var foreignContact = await world.CreateContactIdAsync(foreignSite, "1234", world.OtherDealer);

        // The other dealer's site through this dealer's path.
        await (await world.SendAsync(HttpMethod.Get, world.ContactsPath(foreignSite))).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Post, world.ContactsPath(foreignSite), SeedCreateBody)).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Get, world.ContactPath(foreignSite, foreignContact))).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Put, world.ContactPath(foreignSite, foreignContact), "{\"first_name\":\"x\"}")).ReadErrorAsync(404, "site_not_found");
        await (await world.SendAsync(HttpMethod.Delete, world.ContactPath(foreignSite, foreignContact))).ReadErrorAsync(404, "site_not_found");
        // The other dealer's contact through this dealer's own site.
        await (await world.SendAsync(HttpMethod.Get, world.ContactPath(siteId, foreignContact))).ReadErrorAsync(404, "contact_not_found");
        await (await world.SendAsync(HttpMethod.Delete, world.ContactPath(siteId, foreignContact))).ReadErrorAsync(404, "contact_not_found");

        var still = await (await world.SendAsync(HttpMethod.Get, world.ContactPath(foreignSite, foreignContact, world.OtherDealer))).ReadJsonAsync();
        Assert.Equal("John", still.GetProperty("first_name").GetString());
        Assert.Equal(1, await world.CountAsync("SELECT COUNT(*) FROM contacts", new { }));
    }

    // ----- uniqueness ----------------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task CreatingAContactWithADuplicateExternalIdIs409(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        await CreateSeedContactAsync(world, siteId);

        var duplicate = await world.SendAsync(HttpMethod.Post, world.ContactsPath(siteId), CreateBody(externalContactId: "\"1234\"", firstName: "\"Other\""));
        var error = await duplicate.ReadErrorAsync(409, "conflict");
        Assert.Equal("external_contact_id", error.GetProperty("field").GetString());
        var list = await (await world.SendAsync(HttpMethod.Get, world.ContactsPath(siteId))).ReadJsonAsync();
        Assert.Equal("John", Assert.Single(list.EnumerateArray()).GetProperty("first_name").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task TheSameExternalContactIdOnAnotherSiteIsFine(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var otherSite = await world.CreateSiteIdAsync("site-2");
        var foreignSite = await world.CreateSiteIdAsync("site-1", world.OtherDealer);

        var first = await CreateSeedContactAsync(world, siteId);
        var second = await CreateSeedContactAsync(world, otherSite);
        var third = await world.CreateContactAsync(foreignSite, "1234", dealer: world.OtherDealer);
        Assert.Equal("1234", second.GetProperty("external_contact_id").GetString());
        Assert.Equal("1234", third.GetProperty("external_contact_id").GetString());
        Assert.Equal(3, new[] { first, second, third }.Select(c => c.GetProperty("contact_id").GetInt64()).Distinct().Count());
        // Exact comparison: another case is another id.
        await world.CreateContactAsync(siteId, "ABC");
        await world.CreateContactAsync(siteId, "abc");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ConcurrentCreatesWithTheSameExternalContactIdMakeOneContactAndTheOthersAre409(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => world.SendAsync(HttpMethod.Post, world.ContactsPath(siteId), SeedCreateBody)));

        Assert.Single(responses, r => (int)r.StatusCode == 201);
        foreach (var response in responses.Where(r => (int)r.StatusCode != 201))
        {
            var error = await response.ReadErrorAsync(409, "conflict");
            Assert.Equal("external_contact_id", error.GetProperty("field").GetString());
        }

        Assert.Equal(1, await world.CountAsync("SELECT COUNT(*) FROM contacts WHERE site_id = @siteId", new { siteId }));
    }

    // ----- access, checked by the insert itself -------------------------------------------------

    /// <summary>
    /// Without an Idempotency-Key, a create reads nothing before its insert, which stores the contact only where the caller may
    /// reach the site; when it stores nothing, the answer is the access check's own error, before any error of the body.
    /// </summary>
    [Theory, OnSqlite, OnPostgres]
    public async Task ACreateWhereTheCallerMayNotReachTheSiteIsTheAccessErrorBeforeAnyBodyErrorAndStoresNothing(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var otherDealersSite = await world.CreateSiteIdAsync("site-other", world.OtherDealer);
        var stranger = await Seed.DealerAsync(world.App, "Stranger Inc.");
        var strangersSite = await world.CountAsync(
            "INSERT INTO sites (dealer_id, external_site_id, name, timezone, created_at, updated_at) VALUES (@stranger, 's-1', 'S', 'UTC', 0, 0) RETURNING id",
            new { stranger });
        var disconnected = await Seed.DealerAsync(world.App, "Gone Inc.");
        await Seed.ConnectAsync(world.App, world.Partner, disconnected, "adc-gone");
        var disconnectedSite = await world.CreateSiteIdAsync("site-gone", disconnected);
        await world.App.Services.ExecuteAsync("UPDATE dealer_connections SET disconnected_at = 1 WHERE dealer_id = @disconnected", new { disconnected });
        var refusals = new (string Path, int Status, string Code)[]
        {
            (world.ContactsPath(otherDealersSite), 404, "site_not_found"), // a site of another dealer of the partner
            (world.ContactsPath(999_999), 404, "site_not_found"),
            (world.ContactsPath(siteId, dealer: 999_999), 404, "dealer_not_found"),
            (world.ContactsPath(strangersSite, dealer: stranger), 403, "dealer_not_connected"),
            (world.ContactsPath(disconnectedSite, dealer: disconnected), 403, "dealer_not_connected"),
        };
        var bodies = new[] { SeedCreateBody, "{}", """{"external_contact_id":"1234","first_name":"John","last_name":"Doe","email":"not-an-email"}""", "{" };

        foreach (var (path, status, code) in refusals)
        {
            foreach (var body in bodies)
            {
                await (await world.SendAsync(HttpMethod.Post, path, body)).ReadErrorAsync(status, code);
            }

            // With an Idempotency-Key the access is checked before the key is claimed, with the same answer.
            using var keyed = Seed.Authorized(HttpMethod.Post, path, world.Token, SeedCreateBody);
            keyed.Headers.Add("Idempotency-Key", "key-" + path.Length + "-" + status + "-" + code);
            await (await world.App.Client.SendAsync(keyed)).ReadErrorAsync(status, code);
        }

        Assert.Equal(0, await world.CountAsync("SELECT COUNT(*) FROM contacts", new { }));
        // The body's own errors where the site may be reached; then the contact is stored.
        await (await world.SendAsync(HttpMethod.Post, world.ContactsPath(siteId), "{}")).ReadErrorAsync(400, "validation_failed");
        await CreateSeedContactAsync(world, siteId);
    }

    /// <summary>
    /// An insert that stores nothing although the check after it finds that the caller may reach the site (access granted in
    /// between) is tried once more; if that stores nothing either, the answer is a 409 to send the request again.
    /// </summary>
    [Theory, OnSqlite, OnPostgres]
    public async Task ACreateWhoseInsertStoresNothingThoughTheSiteMayBeReachedIsTriedOnceMoreThen409(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        // A trigger stands in for the moment between the insert and the check: it drops the row and counts the attempts.
        await world.App.Services.ExecuteAsync("CREATE TABLE dropped_inserts (external_contact_id TEXT NOT NULL)");
        await world.App.Services.ExecuteAsync(provider == DatabaseProvider.Sqlite
            ? """
              CREATE TRIGGER drop_contact BEFORE INSERT ON contacts WHEN NEW.external_contact_id = 'dropped'
              BEGIN INSERT INTO dropped_inserts VALUES (NEW.external_contact_id); SELECT RAISE(IGNORE); END
              """
            : """
              CREATE FUNCTION drop_contact() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                IF NEW.external_contact_id = 'dropped' THEN INSERT INTO dropped_inserts VALUES (NEW.external_contact_id); RETURN NULL; END IF;
                RETURN NEW; END $$;
              CREATE TRIGGER drop_contact BEFORE INSERT ON contacts FOR EACH ROW EXECUTE FUNCTION drop_contact();
              """);

        var error = await (await world.SendAsync(HttpMethod.Post, world.ContactsPath(siteId), CreateBody(externalContactId: "\"dropped\""))).ReadErrorAsync(409, "conflict");

        Assert.Contains("send the request again", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, await world.CountAsync("SELECT COUNT(*) FROM dropped_inserts", new { }));
        Assert.Equal(0, await world.CountAsync("SELECT COUNT(*) FROM contacts", new { }));
        await CreateSeedContactAsync(world, siteId);
    }

    // ----- lists ---------------------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task ContactListsAreOrderedByIdAndPagedWithLimitAfterAndALinkToTheNextPage(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var otherSite = await world.CreateSiteIdAsync("site-2");
        var ids = new List<long>();
        foreach (var name in new[] { "zed", "alpha", "mike", "bravo", "yankee" })
        {
            ids.Add(await world.CreateContactIdAsync(siteId, name));
            await world.CreateContactIdAsync(otherSite, name);
        }

        var all = await world.SendAsync(HttpMethod.Get, world.ContactsPath(siteId));
        var body = await all.ReadJsonAsync();
        Assert.Equal(ids, body.EnumerateArray().Select(c => c.GetProperty("contact_id").GetInt64()).ToList());
        Assert.All(body.EnumerateArray(), c => AssertFields(ContactFields, c));
        Assert.False(all.Headers.Contains("Link"));

        foreach (var limit in new[] { 1, 2, 3, 4, 5, 6, 1000 })
        {
            Assert.Equal(ids, await world.ReadAllPagesAsync($"{world.ContactsPath(siteId)}?limit={limit}", limit, "contact_id"));
        }

        var afterSecond = await (await world.SendAsync(HttpMethod.Get, $"{world.ContactsPath(siteId)}?after={ids[1]}")).ReadJsonAsync();
        Assert.Equal(ids.Skip(2), afterSecond.EnumerateArray().Select(c => c.GetProperty("contact_id").GetInt64()));
        var afterLast = await world.SendAsync(HttpMethod.Get, $"{world.ContactsPath(siteId)}?limit=1&after={ids[^1]}");
        Assert.Equal(200, (int)afterLast.StatusCode);
        Assert.Equal(0, (await afterLast.ReadJsonAsync()).GetArrayLength());
        Assert.False(afterLast.Headers.Contains("Link"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AContactListHoldsThePathSitesContactsOnlyAndAForeignSiteIs404BeforeAnyPagingError(DatabaseProvider provider)
    {
        // The list is read by the access query itself: it must still be exactly the path site's contacts.
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var emptySite = await world.CreateSiteIdAsync("site-empty");
        var otherSite = await world.CreateSiteIdAsync("site-2");
        var foreignSite = await world.CreateSiteIdAsync("site-1", world.OtherDealer);
        var mine = await world.CreateContactIdAsync(siteId, "mine");
        await world.CreateContactIdAsync(otherSite, "theirs");
        await world.CreateContactAsync(foreignSite, "foreign", dealer: world.OtherDealer);

        var empty = await world.SendAsync(HttpMethod.Get, world.ContactsPath(emptySite));
        Assert.Equal("[]", await empty.Content.ReadAsStringAsync());
        var list = await (await world.SendAsync(HttpMethod.Get, world.ContactsPath(siteId))).ReadJsonAsync();
        Assert.Equal([mine], list.EnumerateArray().Select(c => c.GetProperty("contact_id").GetInt64()).ToList());

        // The other dealer's site under this dealer's path is unknown, whatever the paging says.
        foreach (var query in new[] { "", "?limit=1", "?after=1", "?limit=0", "?after=abc" })
        {
            await (await world.SendAsync(HttpMethod.Get, world.ContactsPath(foreignSite) + query)).ReadErrorAsync(404, "site_not_found");
        }

        var theirs = await (await world.SendAsync(HttpMethod.Get, world.ContactsPath(foreignSite, world.OtherDealer))).ReadJsonAsync();
        Assert.Equal("foreign", Assert.Single(theirs.EnumerateArray()).GetProperty("external_contact_id").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task BadContactPagingParametersAndUnknownQueryParametersAre400(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        await world.CreateContactIdAsync(siteId, "c-1");
        foreach (var (query, field) in new[]
        {
            ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=abc", "limit"), ("limit=-5", "limit"),
            ("after=-1", "after"), ("after=abc", "after"), ($"after={BigId}", "after"),
        })
        {
            var error = await (await world.SendAsync(HttpMethod.Get, $"{world.ContactsPath(siteId)}?{query}")).ReadErrorAsync(400);
            Assert.True(field == error.GetProperty("field").GetString(), $"{query}: {error}");
        }

        var unknown = await (await world.SendAsync(HttpMethod.Get, $"{world.ContactsPath(siteId)}?email=john.doe@example.com")).ReadErrorAsync(400, "unknown_parameter");
        Assert.Equal("email", unknown.GetProperty("field").GetString());
        // Single contacts take no query parameters at all.
        var onGet = await (await world.SendAsync(HttpMethod.Get, $"{world.ContactsPath(siteId)}/1?limit=1")).ReadErrorAsync(400, "unknown_parameter");
        Assert.Equal("limit", onGet.GetProperty("field").GetString());
    }

    // ----- ETags ---------------------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task ContactWritesHonourIfMatch(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var created = await world.SendAsync(HttpMethod.Post, world.ContactsPath(siteId), SeedCreateBody);
        var contactId = (await created.ReadJsonAsync()).GetProperty("contact_id").GetInt64();
        var path = world.ContactPath(siteId, contactId);
        var read = await world.SendAsync(HttpMethod.Get, path);
        var first = read.Headers.ETag!.ToString();
        Assert.Equal(created.Headers.ETag!.ToString(), first);

        var updated = await world.SendAsync(HttpMethod.Put, path, SeedUpdateBody, ifMatch: first);
        Assert.Equal(200, (int)updated.StatusCode);
        var second = updated.Headers.ETag!.ToString();
        Assert.NotEqual(first, second);
        Assert.Equal(second, (await world.SendAsync(HttpMethod.Get, path)).Headers.ETag!.ToString());

        await (await world.SendAsync(HttpMethod.Put, path, "{\"first_name\":\"Stale\"}", ifMatch: first)).ReadErrorAsync(412, "precondition_failed");
        Assert.Equal("Jane", (await (await world.SendAsync(HttpMethod.Get, path)).ReadJsonAsync()).GetProperty("first_name").GetString());
        Assert.Equal(second, (await world.SendAsync(HttpMethod.Get, path)).Headers.ETag!.ToString());

        await (await world.SendAsync(HttpMethod.Delete, path, ifMatch: first)).ReadErrorAsync(412, "precondition_failed");
        var stillThere = await world.SendAsync(HttpMethod.Get, path);
        Assert.Equal(200, (int)stillThere.StatusCode);
        Assert.Equal("Jane", (await stillThere.ReadJsonAsync()).GetProperty("first_name").GetString());

        // A contact id of another site with a (once) current ETag is still 404, not 412.
        var otherSite = await world.CreateSiteIdAsync("site-2");
        await (await world.SendAsync(HttpMethod.Put, world.ContactPath(otherSite, contactId), "{\"first_name\":\"x\"}", ifMatch: second)).ReadErrorAsync(404, "contact_not_found");
        await (await world.SendAsync(HttpMethod.Delete, world.ContactPath(otherSite, contactId), ifMatch: second)).ReadErrorAsync(404, "contact_not_found");

        var deleted = await world.SendAsync(HttpMethod.Delete, path, ifMatch: second);
        Assert.Equal(204, (int)deleted.StatusCode);
        Assert.Empty(await deleted.Content.ReadAsByteArrayAsync());
        await (await world.SendAsync(HttpMethod.Get, path)).ReadErrorAsync(404, "contact_not_found");
    }

    // ----- scopes --------------------------------------------------------------------------------

    [Theory, OnSqlite, OnPostgres]
    public async Task EachContactEndpointNeedsItsScope(DatabaseProvider provider)
    {
        var (world, siteId) = await StartWithSiteAsync(provider);
        await using var _ = world;
        var contactId = await world.CreateContactIdAsync(siteId, "c-1");
        var readOnly = await Seed.ClientCredentialsTokenAsync(world.App, world.Client, scope: "read:site_contacts");
        var createOnly = await Seed.ClientCredentialsTokenAsync(world.App, world.Client, scope: "create:site_contacts read:sites");

        var create = await world.SendAsync(HttpMethod.Post, world.ContactsPath(siteId), SeedCreateBody, readOnly);
        await create.ReadErrorAsync(403, "insufficient_scope");
        Assert.Contains("create:site_contacts", create.Headers.WwwAuthenticate.Single().Parameter, StringComparison.Ordinal);
        await (await world.SendAsync(HttpMethod.Put, world.ContactPath(siteId, contactId), SeedUpdateBody, readOnly)).ReadErrorAsync(403, "insufficient_scope");
        await (await world.SendAsync(HttpMethod.Delete, world.ContactPath(siteId, contactId), token: readOnly)).ReadErrorAsync(403, "insufficient_scope");
        Assert.Equal(200, (int)(await world.SendAsync(HttpMethod.Get, world.ContactsPath(siteId), token: readOnly)).StatusCode);
        Assert.Equal(200, (int)(await world.SendAsync(HttpMethod.Get, world.ContactPath(siteId, contactId), token: readOnly)).StatusCode);

        await (await world.SendAsync(HttpMethod.Get, world.ContactsPath(siteId), token: createOnly)).ReadErrorAsync(403, "insufficient_scope");
        await (await world.SendAsync(HttpMethod.Get, world.ContactPath(siteId, contactId), token: createOnly)).ReadErrorAsync(403, "insufficient_scope");
        Assert.Equal(201, (int)(await world.SendAsync(HttpMethod.Post, world.ContactsPath(siteId), SeedCreateBody, createOnly)).StatusCode);

        var contacts = await (await world.SendAsync(HttpMethod.Get, world.ContactsPath(siteId))).ReadJsonAsync();
        Assert.Equal(["c-1", "1234"], contacts.EnumerateArray().Select(c => c.GetProperty("external_contact_id").GetString()).ToList());
        Assert.Equal("John", contacts[0].GetProperty("first_name").GetString());
    }
}
