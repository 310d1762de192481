using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Chekt.PartnerApi.Client;

/// <summary>Registers <see cref="PartnerApiClient"/> with dependency injection.</summary>
public static class PartnerApiServiceCollectionExtensions
{
    /// <summary>The name of the <c>IHttpClientFactory</c> client the SDK sends with.</summary>
    public const string HttpClientName = "Chekt.PartnerApi.Client";

    /// <summary>
    /// Registers <see cref="PartnerApiClient"/> (transient) over a named <c>IHttpClientFactory</c>
    /// client whose pipeline retries (<see cref="PartnerApiRetryHandler"/>) and authenticates
    /// (<see cref="PartnerApiAuthenticationHandler"/>). The credentials, and so the token cache, are
    /// shared by every client resolved.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; <see cref="PartnerApiClientOptions.BaseAddress"/> is required.</param>
    /// <returns>The HTTP client builder, to add handlers or set the primary handler.</returns>
    /// <example>
    /// <code>
    /// services.AddChektPartnerClient(options =>
    /// {
    ///     options.BaseAddress = new Uri("https://api.example.com/");
    ///     options.Credentials = new ClientSecretCredentials(clientId, clientSecret);
    /// });
    /// </code>
    /// </example>
    public static IHttpClientBuilder AddChektPartnerClient(this IServiceCollection services, Action<PartnerApiClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<PartnerApiClientOptions>().Configure(configure);
        var builder = services
            .AddHttpClient(HttpClientName, (provider, http) => PartnerApiClient.Configure(http, OptionsOf(provider)))
            .AddHttpMessageHandler(provider => new PartnerApiRetryHandler(OptionsOf(provider).Retry))
            .AddHttpMessageHandler(provider => OptionsOf(provider) is { Credentials: { } credentials } options
                ? new PartnerApiAuthenticationHandler(credentials, options.RequireBaseAddress())
                : new PassThroughHandler());
        services.TryAddTransient(provider => new PartnerApiClient(
            provider.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName), OptionsOf(provider).RequireBaseAddress()));
        return builder;
    }

    private static PartnerApiClientOptions OptionsOf(IServiceProvider provider) => provider.GetRequiredService<IOptions<PartnerApiClientOptions>>().Value;

    /// <summary>Stands in for the authentication handler when no credentials are configured.</summary>
    private sealed class PassThroughHandler : DelegatingHandler;
}
