namespace Chekt.PartnerApi.Client;

/// <summary>Settings of a <see cref="PartnerApiClient"/>.</summary>
public sealed class PartnerApiClientOptions
{
    /// <summary>
    /// The server's base address, such as <c>https://api.example.com/</c> (the API is under
    /// <c>partner/v1/</c> and the token endpoint at <c>oauth/token</c> below it). Required.
    /// </summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>
    /// How requests are authenticated: <see cref="ClientSecretCredentials"/>,
    /// <see cref="PrivateKeyJwtCredentials"/> or <see cref="AccessTokenCredentials"/>.
    /// <see langword="null"/> sends no token unless a call passes <see cref="RequestOptions.AccessToken"/>.
    /// </summary>
    public PartnerApiCredentials? Credentials { get; set; }

    /// <summary>The retry rules (connection failures, 429, 502, 503, 504).</summary>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>The time limit of one call, retries and their waits included (default 100 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>The <c>User-Agent</c> product to send before the SDK's own, such as <c>MyPlatform/2.1</c>; optional.</summary>
    public string? UserAgent { get; set; }

    internal Uri RequireBaseAddress() =>
        BaseAddress is null
            ? throw new InvalidOperationException($"{nameof(PartnerApiClientOptions)}.{nameof(BaseAddress)} is required, such as https://api.example.com/.")
            : WithTrailingSlash(BaseAddress);

    /// <summary><c>https://host/base</c> and <c>https://host/base/</c> both mean the folder <c>base/</c>.</summary>
    internal static Uri WithTrailingSlash(Uri address)
    {
        if (!address.IsAbsoluteUri || (address.Scheme != Uri.UriSchemeHttps && address.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException("The base address must be an absolute http or https URL.", nameof(address));
        }

        return address.AbsolutePath.EndsWith('/') ? address : new Uri(address.GetLeftPart(UriPartial.Path) + "/");
    }
}
