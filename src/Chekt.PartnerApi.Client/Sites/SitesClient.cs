using Chekt.PartnerApi.Client.Http;

namespace Chekt.PartnerApi.Client;

/// <summary>The Sites API: a dealer's sites and their arming settings.</summary>
public sealed class SitesClient
{
    private readonly ApiConnection _api;

    internal SitesClient(ApiConnection api) => _api = api;

    /// <summary>Creates a site (<c>POST /dealers/{dealerId}/sites</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="request">The new site.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The created site.</returns>
    /// <exception cref="PartnerApiException">400 for an invalid field; 409 <c>conflict</c> when the dealer already has a site with this external id.</exception>
    public Task<Site> CreateAsync(long dealerId, CreateSiteRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        ArgumentNullException.ThrowIfNull(request);
        return _api.SendAsync<Site>(HttpMethod.Post, ApiConnection.Path($"dealers/{dealerId}/sites"), request, options, cancellationToken);
    }

    /// <summary>Reads one page of the dealer's sites, by id ascending (<c>GET /dealers/{dealerId}/sites</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="list">The page size and where to start; <see langword="null"/> for the first page at the server's default size.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<ListPage<Site>> ListAsync(long dealerId, ListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        return _api.ListAsync<Site>(ApiConnection.Path($"dealers/{dealerId}/sites"), list, options, cancellationToken);
    }

    /// <summary>Every site of the dealer, by id ascending, fetched page by page as you enumerate (following <c>Link: rel="next"</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="list">The page size and where to start; <see langword="null"/> for all items at the server's default page size.</param>
    /// <param name="options">Per-call options, used for every page.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    public IAsyncEnumerable<Site> ListAllAsync(long dealerId, ListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        return _api.ListAllAsync<Site>(ApiConnection.Path($"dealers/{dealerId}/sites"), list, options, cancellationToken);
    }

    /// <summary>Reads a site (<c>GET /dealers/{dealerId}/sites/{siteId}</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="PartnerApiException">404 <c>site_not_found</c>.</exception>
    public Task<Site> GetAsync(long dealerId, long siteId, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        return _api.SendAsync<Site>(HttpMethod.Get, ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}"), null, options, cancellationToken);
    }

    /// <summary>Changes a site; only the properties set in <paramref name="request"/> change (<c>PUT /dealers/{dealerId}/sites/{siteId}</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="request">The fields to change (<see cref="Optional{T}"/>: unset stays, <see langword="null"/> clears).</param>
    /// <param name="options">Per-call options (for example <see cref="RequestOptions.IfMatch"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The site as updated.</returns>
    public Task<Site> UpdateAsync(long dealerId, long siteId, UpdateSiteRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        ArgumentNullException.ThrowIfNull(request);
        return _api.SendAsync<Site>(HttpMethod.Put, ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}"), request, options, cancellationToken);
    }

    /// <summary>Deletes a site with its contacts and devices (<c>DELETE /dealers/{dealerId}/sites/{siteId}</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="options">Per-call options (for example <see cref="RequestOptions.IfMatch"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task DeleteAsync(long dealerId, long siteId, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        return _api.SendAsync(HttpMethod.Delete, ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}"), null, options, cancellationToken);
    }

    /// <summary>Reads a site's arming settings (<c>GET /dealers/{dealerId}/sites/{siteId}/arming-settings</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<ArmingSettings> GetArmingSettingsAsync(long dealerId, long siteId, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        return _api.SendAsync<ArmingSettings>(HttpMethod.Get, ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}/arming-settings"), null, options, cancellationToken);
    }

    /// <summary>Changes a site's security type (<c>PATCH /dealers/{dealerId}/sites/{siteId}/arming-settings</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="request">The new security type.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<ArmingSettings> UpdateArmingSettingsAsync(
        long dealerId, long siteId, UpdateArmingSettingsRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        ArgumentNullException.ThrowIfNull(request);
        return _api.SendAsync<ArmingSettings>(HttpMethod.Patch, ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}/arming-settings"), request, options, cancellationToken);
    }
}
