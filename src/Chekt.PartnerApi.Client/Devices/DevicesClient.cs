using Chekt.PartnerApi.Client.Http;

namespace Chekt.PartnerApi.Client;

/// <summary>The Devices API: cameras and bridges at a site.</summary>
public sealed class DevicesClient
{
    /// <summary>The most devices one <see cref="CreateAsync"/> call may send.</summary>
    public const int MaxDevicesPerRequest = 500;

    private readonly ApiConnection _api;

    internal DevicesClient(ApiConnection api) => _api = api;

    /// <summary>
    /// Creates devices in bulk (<c>POST /dealers/{dealerId}/sites/{siteId}/devices</c>). Each device
    /// succeeds or fails on its own: check <see cref="BulkCreateDevicesResult.Results"/>; a refused
    /// device does not throw.
    /// </summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="devices">1 to <see cref="MaxDevicesPerRequest"/> devices.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per device, in the order sent.</returns>
    public Task<BulkCreateDevicesResult> CreateAsync(
        long dealerId, long siteId, IEnumerable<CreateDeviceRequest> devices, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        ArgumentNullException.ThrowIfNull(devices);
        var list = devices.ToList();
        if (list.Count is 0 or > MaxDevicesPerRequest)
        {
            throw new ArgumentException($"Send 1 to {MaxDevicesPerRequest} devices per request (got {list.Count}).", nameof(devices));
        }

        if (list.Contains(null!))
        {
            throw new ArgumentException("The devices must not contain null.", nameof(devices));
        }

        return _api.SendAsync<BulkCreateDevicesResult>(HttpMethod.Post, ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}/devices"), list, options, cancellationToken);
    }

    /// <summary>Reads one page of the site's devices, by id ascending (<c>GET /dealers/{dealerId}/sites/{siteId}/devices</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="list">The page size and where to start; <see langword="null"/> for the first page at the server's default size.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<ListPage<Device>> ListAsync(long dealerId, long siteId, ListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        return _api.ListAsync<Device>(ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}/devices"), list, options, cancellationToken);
    }

    /// <summary>Every device of the site, by id ascending, fetched page by page as you enumerate (following <c>Link: rel="next"</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="list">The page size and where to start; <see langword="null"/> for all items at the server's default page size.</param>
    /// <param name="options">Per-call options, used for every page.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    public IAsyncEnumerable<Device> ListAllAsync(long dealerId, long siteId, ListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        return _api.ListAllAsync<Device>(ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}/devices"), list, options, cancellationToken);
    }

    /// <summary>Reads a device (<c>GET …/devices/{deviceId}</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="deviceId">The device's CHeKT id.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="PartnerApiException">404 <c>device_not_found</c>.</exception>
    public Task<Device> GetAsync(long dealerId, long siteId, long deviceId, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        Ids.Check(deviceId);
        return _api.SendAsync<Device>(HttpMethod.Get, ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}/devices/{deviceId}"), null, options, cancellationToken);
    }

    /// <summary>Changes a device; only the properties set in <paramref name="request"/> change (<c>PUT …/devices/{deviceId}</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="deviceId">The device's CHeKT id.</param>
    /// <param name="request">The fields to change (<see cref="Optional{T}"/>: unset stays, <see langword="null"/> clears).</param>
    /// <param name="options">Per-call options (for example <see cref="RequestOptions.IfMatch"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The device as updated.</returns>
    public Task<Device> UpdateAsync(
        long dealerId, long siteId, long deviceId, UpdateDeviceRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        Ids.Check(deviceId);
        ArgumentNullException.ThrowIfNull(request);
        return _api.SendAsync<Device>(HttpMethod.Put, ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}/devices/{deviceId}"), request, options, cancellationToken);
    }

    /// <summary>Deletes a device (<c>DELETE …/devices/{deviceId}</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="deviceId">The device's CHeKT id.</param>
    /// <param name="options">Per-call options (for example <see cref="RequestOptions.IfMatch"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task DeleteAsync(long dealerId, long siteId, long deviceId, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        Ids.Check(deviceId);
        return _api.SendAsync(HttpMethod.Delete, ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}/devices/{deviceId}"), null, options, cancellationToken);
    }
}
