using Chekt.PartnerApi.Client.Http;

namespace Chekt.PartnerApi.Client;

/// <summary>The Dealers API: connect, read, update and disconnect dealers.</summary>
public sealed class DealersClient
{
    private readonly ApiConnection _api;

    internal DealersClient(ApiConnection api) => _api = api;

    /// <summary>
    /// Connects the signed-in dealer admin's dealer to your partner account under your id for it
    /// (<c>PUT /dealers/connect</c>). Needs a dealer <b>admin user's</b> access token (authorization code
    /// flow): pass it as <see cref="RequestOptions.AccessToken"/>, or build the client with
    /// <see cref="AccessTokenCredentials"/>. Connecting again with a new external id replaces the old one.
    /// </summary>
    /// <param name="request">Your id and name for the dealer.</param>
    /// <param name="options">Per-call options; <see cref="RequestOptions.AccessToken"/> carries the user token.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The connected dealer, with your <see cref="Dealer.ExternalDealerId"/>.</returns>
    /// <exception cref="PartnerApiException">403 <c>forbidden</c> for a client-credentials or member token; 409 <c>conflict</c> when the external id is already used for another dealer.</exception>
    public Task<Dealer> ConnectAsync(ConnectDealerRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _api.SendAsync<Dealer>(HttpMethod.Put, ApiConnection.Path($"dealers/connect"), request, options, cancellationToken);
    }

    /// <summary>Reads a dealer connected to your partner account (<c>GET /dealers/{dealerId}</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="PartnerApiException">404 <c>dealer_not_found</c>; 403 <c>dealer_not_connected</c>.</exception>
    public Task<Dealer> GetAsync(long dealerId, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        return _api.SendAsync<Dealer>(HttpMethod.Get, ApiConnection.Path($"dealers/{dealerId}"), null, options, cancellationToken);
    }

    /// <summary>Changes a dealer's company details; only the properties set in <paramref name="request"/> change (<c>PUT /dealers/{dealerId}</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="request">The fields to change (<see cref="Optional{T}"/>: unset stays, <see langword="null"/> clears).</param>
    /// <param name="options">Per-call options (for example <see cref="RequestOptions.IfMatch"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The dealer as updated.</returns>
    public Task<Dealer> UpdateAsync(long dealerId, UpdateDealerRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        ArgumentNullException.ThrowIfNull(request);
        return _api.SendAsync<Dealer>(HttpMethod.Put, ApiConnection.Path($"dealers/{dealerId}"), request, options, cancellationToken);
    }

    /// <summary>
    /// Disconnects a dealer from your partner account (<c>PUT /dealers/{dealerId}/disconnect</c>); its
    /// data stays and is there again when it reconnects. Needs that dealer's <b>admin user's</b> access
    /// token, like <see cref="ConnectAsync"/>.
    /// </summary>
    /// <param name="dealerId">The dealer's CHeKT id (the user's own dealer).</param>
    /// <param name="options">Per-call options; <see cref="RequestOptions.AccessToken"/> carries the user token.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The dealer, with <see cref="Dealer.ExternalDealerId"/> <see langword="null"/>.</returns>
    public Task<Dealer> DisconnectAsync(long dealerId, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        return _api.SendAsync<Dealer>(HttpMethod.Put, ApiConnection.Path($"dealers/{dealerId}/disconnect"), null, options, cancellationToken);
    }
}
