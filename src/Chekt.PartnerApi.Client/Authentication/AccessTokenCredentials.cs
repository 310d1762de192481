namespace Chekt.PartnerApi.Client;

/// <summary>
/// An access token obtained elsewhere — typically a dealer admin's token from the authorization
/// code flow, which <c>Dealers.ConnectAsync</c> and <c>Dealers.DisconnectAsync</c> need — either fixed or
/// produced by your callback (which then owns refreshing it).
/// </summary>
/// <remarks>For a single call, <see cref="RequestOptions.AccessToken"/> overrides the client's credentials instead.</remarks>
public sealed class AccessTokenCredentials : PartnerApiCredentials
{
    private readonly Func<CancellationToken, ValueTask<string>> _provider;

    /// <summary>Uses one fixed access token.</summary>
    /// <param name="accessToken">The bearer token.</param>
    public AccessTokenCredentials(string accessToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(accessToken);
        _provider = _ => ValueTask.FromResult(accessToken);
    }

    /// <summary>Asks <paramref name="provider"/> for the token before every request.</summary>
    /// <param name="provider">Returns a currently valid access token; it is called for every request, so cache inside it.</param>
    public AccessTokenCredentials(Func<CancellationToken, ValueTask<string>> provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        _provider = provider;
    }

    internal override ValueTask<string> GetAccessTokenAsync(TokenRequestContext context, CancellationToken cancellationToken) => _provider(cancellationToken);
}
