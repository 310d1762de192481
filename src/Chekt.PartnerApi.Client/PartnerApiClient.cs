using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using Chekt.PartnerApi.Client.Http;

namespace Chekt.PartnerApi.Client;

/// <summary>
/// The client of the CHeKT Partner API, with one sub-client per resource: <see cref="Dealers"/>,
/// <see cref="Sites"/>, <see cref="Contacts"/>, <see cref="MonitoringStations"/> and <see cref="Devices"/>.
/// Create one and reuse it (it is thread-safe and keeps its connections and token cache), or
/// register it with <see cref="PartnerApiServiceCollectionExtensions.AddChektPartnerClient"/>.
/// </summary>
/// <example>
/// <code>
/// using var client = new PartnerApiClient(new Uri("https://api.example.com/"), clientId, clientSecret);
/// var site = await client.Sites.CreateAsync(dealerId, new CreateSiteRequest
/// {
///     ExternalSiteId = "site-1", Name = "Main Street Store", Timezone = "America/New_York",
/// });
/// await foreach (var contact in client.Contacts.ListAllAsync(dealerId, site.SiteId))
/// {
///     Console.WriteLine(contact.FirstName);
/// }
/// </code>
/// </example>
public sealed class PartnerApiClient : IDisposable
{
    private static readonly ProductInfoHeaderValue SdkProduct = new(
        "Chekt.PartnerApi.Client",
        typeof(PartnerApiClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "1.0.0");

    private readonly HttpClient? _ownedHttpClient;

    /// <summary>A client with a client id and secret (<see cref="ClientSecretCredentials"/>) and default settings.</summary>
    /// <param name="baseAddress">The server's base address, such as <c>https://api.example.com/</c>.</param>
    /// <param name="clientId">The OAuth client id.</param>
    /// <param name="clientSecret">The client secret.</param>
    public PartnerApiClient(Uri baseAddress, string clientId, string clientSecret)
        : this(new PartnerApiClientOptions { BaseAddress = baseAddress, Credentials = new ClientSecretCredentials(clientId, clientSecret) })
    {
    }

    /// <summary>A client with its own connection pool.</summary>
    /// <param name="options">The settings; <see cref="PartnerApiClientOptions.BaseAddress"/> is required.</param>
    public PartnerApiClient(PartnerApiClientOptions options)
        : this(options, new SocketsHttpHandler
        {
            // Connections are renewed now and then, so that DNS changes are seen.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.All,
        })
    {
    }

    /// <summary>
    /// A client that sends through <paramref name="primaryHandler"/> (a proxy setup, a test server's
    /// handler, …), with the SDK's retry and authentication handlers in front of it. The handler is
    /// disposed with the client.
    /// </summary>
    /// <param name="options">The settings; <see cref="PartnerApiClientOptions.BaseAddress"/> is required.</param>
    /// <param name="primaryHandler">The handler that sends the requests.</param>
    public PartnerApiClient(PartnerApiClientOptions options, HttpMessageHandler primaryHandler)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(primaryHandler);
        var baseAddress = options.RequireBaseAddress();
        HttpMessageHandler pipeline = primaryHandler;
        if (options.Credentials is { } credentials)
        {
            pipeline = new PartnerApiAuthenticationHandler(credentials, baseAddress) { InnerHandler = pipeline };
        }

        pipeline = new PartnerApiRetryHandler(options.Retry, pipeline);
        _ownedHttpClient = new HttpClient(pipeline, disposeHandler: true);
        Configure(_ownedHttpClient, options);
        (Dealers, Sites, Contacts, MonitoringStations, Devices) = CreateResourceClients(new ApiConnection(_ownedHttpClient, baseAddress));
    }

    /// <summary>
    /// A client over an <see cref="HttpClient"/> you configured — for example one from
    /// <c>IHttpClientFactory</c> with <see cref="PartnerApiRetryHandler"/> and
    /// <see cref="PartnerApiAuthenticationHandler"/> in its pipeline. It is used as it is and not disposed.
    /// </summary>
    /// <param name="httpClient">The HTTP client to send with.</param>
    /// <param name="baseAddress">The server's base address; <see langword="null"/> for the client's <see cref="HttpClient.BaseAddress"/>.</param>
    public PartnerApiClient(HttpClient httpClient, Uri? baseAddress = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        var address = baseAddress ?? httpClient.BaseAddress
            ?? throw new ArgumentException("Give a base address, or an HttpClient with a BaseAddress.", nameof(baseAddress));
        (Dealers, Sites, Contacts, MonitoringStations, Devices) =
            CreateResourceClients(new ApiConnection(httpClient, PartnerApiClientOptions.WithTrailingSlash(address)));
    }

    /// <summary>Dealers: connect, read, update, disconnect.</summary>
    public DealersClient Dealers { get; }

    /// <summary>A dealer's sites and their arming settings.</summary>
    public SitesClient Sites { get; }

    /// <summary>The contacts of a site.</summary>
    public ContactsClient Contacts { get; }

    /// <summary>A dealer's monitoring stations.</summary>
    public MonitoringStationsClient MonitoringStations { get; }

    /// <summary>The devices of a site (bulk create).</summary>
    public DevicesClient Devices { get; }

    /// <summary>Releases the connections of a client that created its own <see cref="HttpClient"/>.</summary>
    public void Dispose() => _ownedHttpClient?.Dispose();

    /// <summary>Applies the options that live on the <see cref="HttpClient"/> itself.</summary>
    internal static void Configure(HttpClient httpClient, PartnerApiClientOptions options)
    {
        httpClient.BaseAddress = options.RequireBaseAddress();
        httpClient.Timeout = options.Timeout;
        if (!string.IsNullOrWhiteSpace(options.UserAgent))
        {
            httpClient.DefaultRequestHeaders.UserAgent.ParseAdd(options.UserAgent);
        }

        httpClient.DefaultRequestHeaders.UserAgent.Add(SdkProduct);
    }

    private static (DealersClient, SitesClient, ContactsClient, MonitoringStationsClient, DevicesClient) CreateResourceClients(ApiConnection api) =>
        (new DealersClient(api), new SitesClient(api), new ContactsClient(api), new MonitoringStationsClient(api), new DevicesClient(api));
}
