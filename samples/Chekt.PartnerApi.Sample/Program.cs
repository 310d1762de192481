// A walk through the Partner API with the .NET SDK: (optionally) connect a dealer with a dealer
// admin's token, create a site and its contacts, list them, update one, then delete everything
// it created. See ../README.md for how to run it against the server's `demo` command.
using System.Globalization;
using Chekt.PartnerApi.Client;

var settings = Settings.Read(args);
if (settings is null)
{
    Console.Error.WriteLine(Settings.Usage);
    return 2;
}

using var client = new PartnerApiClient(new PartnerApiClientOptions
{
    BaseAddress = settings.BaseUrl,
    Credentials = new ClientSecretCredentials(settings.ClientId, settings.ClientSecret),
    UserAgent = "Chekt.PartnerApi.Sample/1.0",
});
Console.WriteLine($"Server: {settings.BaseUrl}");

try
{
    var dealerId = settings.DealerId;
    if (settings.UserToken is { } userToken)
    {
        // Connecting needs the dealer admin's own token; every other call uses the M2M client's.
        Console.WriteLine($"Connecting the signed-in user's dealer as '{settings.ExternalDealerId}'...");
        var connected = await client.Dealers.ConnectAsync(
            new ConnectDealerRequest { ExternalDealerId = settings.ExternalDealerId, CompanyName = "Connected by the SDK sample" },
            new RequestOptions { AccessToken = userToken });
        dealerId = connected.DealerId;
        Console.WriteLine($"  connected dealer {connected.DealerId} ({connected.CompanyName}) as '{connected.ExternalDealerId}'");
    }

    if (dealerId is not { } id)
    {
        Console.Error.WriteLine("A dealer id is needed: pass --dealer-id (or CHEKT_DEALER_ID), or --user-token to connect one.");
        return 2;
    }

    var dealer = await client.Dealers.GetAsync(id);
    Console.WriteLine($"Dealer {dealer.DealerId}: {dealer.CompanyName}, your id '{dealer.ExternalDealerId}'");

    await RunWalkThroughAsync(client, id);
    return 0;
}
catch (PartnerApiException exception)
{
    Console.Error.WriteLine($"The API refused a call: {(int)exception.StatusCode} {exception.Code}: {exception.Message}"
        + (exception.Field is null ? "" : $" (field '{exception.Field}')") + $" [request id {exception.RequestId}]");
    return 1;
}
catch (HttpRequestException exception)
{
    Console.Error.WriteLine($"Cannot reach {settings.BaseUrl}: {exception.Message}");
    return 1;
}

static async Task RunWalkThroughAsync(PartnerApiClient client, long dealerId)
{
    var suffix = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
    Console.WriteLine("Creating a site...");
    var site = await client.Sites.CreateAsync(dealerId, new CreateSiteRequest
    {
        ExternalSiteId = $"sample-site-{suffix}",
        Name = "SDK Sample Store",
        Timezone = "America/New_York",
        Address1 = "1 Main Street",
    });
    Console.WriteLine($"  site {site.SiteId} '{site.Name}' ({site.ExternalSiteId}), time zone {site.Timezone}");

    try
    {
        Console.WriteLine("Creating two contacts...");
        var contacts = new[]
        {
            new CreateContactRequest { ExternalContactId = $"sample-{suffix}-1", FirstName = "Jane", LastName = "Doe", PhoneNumber = "+1 555 010 0001", Email = "jane.doe@example.com" },
            new CreateContactRequest { ExternalContactId = $"sample-{suffix}-2", FirstName = "John", LastName = "Roe", PhoneNumber = "+1 555 010 0002" },
        };
        foreach (var request in contacts)
        {
            var contact = await client.Contacts.CreateAsync(dealerId, site.SiteId, request);
            Console.WriteLine($"  contact {contact.ContactId}: {contact.FirstName} {contact.LastName}, {contact.PhoneNumber}, {contact.Email ?? "no email"}");
        }

        Console.WriteLine("Listing the site's contacts (one page of 1 at a time, to show paging)...");
        var listed = new List<Contact>();
        await foreach (var contact in client.Contacts.ListAllAsync(dealerId, site.SiteId, new ListOptions { Limit = 1 }))
        {
            listed.Add(contact);
            Console.WriteLine($"  {contact.ContactId}: {contact.FirstName} {contact.LastName} <{contact.Email ?? "-"}>");
        }

        Console.WriteLine("Updating the first contact: new phone number, email cleared, names unchanged...");
        var updated = await client.Contacts.UpdateAsync(dealerId, site.SiteId, listed[0].ContactId,
            new UpdateContactRequest { PhoneNumber = "+1 555 010 0009", Email = null });
        Console.WriteLine($"  {updated.ContactId}: {updated.FirstName} {updated.LastName}, {updated.PhoneNumber}, {updated.Email ?? "no email"}");

        Console.WriteLine("Deleting the contacts...");
        foreach (var contact in listed)
        {
            await client.Contacts.DeleteAsync(dealerId, site.SiteId, contact.ContactId);
            Console.WriteLine($"  deleted contact {contact.ContactId}");
        }
    }
    finally
    {
        // The site goes in any case (its contacts would go with it).
        await client.Sites.DeleteAsync(dealerId, site.SiteId);
        Console.WriteLine($"Deleted site {site.SiteId}. Done.");
    }
}

/// <summary>The sample's settings, from --options or CHEKT_* environment variables.</summary>
internal sealed record Settings(Uri BaseUrl, string ClientId, string ClientSecret, long? DealerId, string? UserToken, string ExternalDealerId)
{
    public const string Usage = """
        Usage: dotnet run --project samples/Chekt.PartnerApi.Sample -- --base-url URL --client-id ID --client-secret SECRET
                          [--dealer-id ID] [--user-token TOKEN [--external-dealer-id ID]]
        or the environment variables CHEKT_BASE_URL, CHEKT_CLIENT_ID, CHEKT_CLIENT_SECRET, CHEKT_DEALER_ID,
        CHEKT_USER_TOKEN and CHEKT_EXTERNAL_DEALER_ID.
        """;

    public static Settings? Read(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                return null;
            }

            values[args[i][2..]] = args[i + 1];
        }

        string? Value(string name) =>
            values.TryGetValue(name, out var value) ? value
            : Environment.GetEnvironmentVariable("CHEKT_" + name.Replace('-', '_').ToUpperInvariant()) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : null;

        if (args.Length % 2 != 0
            || !Uri.TryCreate(Value("base-url"), UriKind.Absolute, out var baseUrl)
            || Value("client-id") is not { } clientId
            || Value("client-secret") is not { } clientSecret)
        {
            return null;
        }

        long? dealerId = null;
        if (Value("dealer-id") is { } rawDealerId)
        {
            if (!long.TryParse(rawDealerId, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return null;
            }

            dealerId = parsed;
        }

        return new Settings(baseUrl, clientId, clientSecret, dealerId, Value("user-token"), Value("external-dealer-id") ?? "sdk-sample-dealer");
    }
}
