using Chekt.PartnerApi.Client.Http;

namespace Chekt.PartnerApi.Client;

/// <summary>The Monitoring stations API: a dealer's central stations.</summary>
public sealed class MonitoringStationsClient
{
    private readonly ApiConnection _api;

    internal MonitoringStationsClient(ApiConnection api) => _api = api;

    /// <summary>Creates a monitoring station (<c>POST /dealers/{dealerId}/monitoring-stations</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="request">The new station.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The created station.</returns>
    /// <exception cref="PartnerApiException">400 for an invalid field; 409 <c>conflict</c> when the dealer already has a station with this external id.</exception>
    public Task<MonitoringStation> CreateAsync(
        long dealerId, CreateMonitoringStationRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        ArgumentNullException.ThrowIfNull(request);
        return _api.SendAsync<MonitoringStation>(HttpMethod.Post, ApiConnection.Path($"dealers/{dealerId}/monitoring-stations"), request, options, cancellationToken);
    }

    /// <summary>Reads one page of the dealer's monitoring stations, by id ascending (<c>GET /dealers/{dealerId}/monitoring-stations</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="list">The page size and where to start; <see langword="null"/> for the first page at the server's default size.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<ListPage<MonitoringStation>> ListAsync(
        long dealerId, ListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        return _api.ListAsync<MonitoringStation>(ApiConnection.Path($"dealers/{dealerId}/monitoring-stations"), list, options, cancellationToken);
    }

    /// <summary>Every monitoring station of the dealer, by id ascending, fetched page by page as you enumerate (following <c>Link: rel="next"</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="list">The page size and where to start; <see langword="null"/> for all items at the server's default page size.</param>
    /// <param name="options">Per-call options, used for every page.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    public IAsyncEnumerable<MonitoringStation> ListAllAsync(
        long dealerId, ListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        return _api.ListAllAsync<MonitoringStation>(ApiConnection.Path($"dealers/{dealerId}/monitoring-stations"), list, options, cancellationToken);
    }

    /// <summary>Reads a monitoring station (<c>GET /dealers/{dealerId}/monitoring-stations/{monitoringStationId}</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="monitoringStationId">The station's CHeKT id.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="PartnerApiException">404 <c>monitoring_station_not_found</c>.</exception>
    public Task<MonitoringStation> GetAsync(long dealerId, long monitoringStationId, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(monitoringStationId);
        return _api.SendAsync<MonitoringStation>(
            HttpMethod.Get, ApiConnection.Path($"dealers/{dealerId}/monitoring-stations/{monitoringStationId}"), null, options, cancellationToken);
    }

    /// <summary>Changes a monitoring station; only the properties set in <paramref name="request"/> change (<c>PUT …/monitoring-stations/{monitoringStationId}</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="monitoringStationId">The station's CHeKT id.</param>
    /// <param name="request">The fields to change (<see cref="Optional{T}"/>: unset stays, <see langword="null"/> clears).</param>
    /// <param name="options">Per-call options (for example <see cref="RequestOptions.IfMatch"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The station as updated.</returns>
    public Task<MonitoringStation> UpdateAsync(
        long dealerId, long monitoringStationId, UpdateMonitoringStationRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(monitoringStationId);
        ArgumentNullException.ThrowIfNull(request);
        return _api.SendAsync<MonitoringStation>(
            HttpMethod.Put, ApiConnection.Path($"dealers/{dealerId}/monitoring-stations/{monitoringStationId}"), request, options, cancellationToken);
    }

    /// <summary>Deletes a monitoring station (<c>DELETE …/monitoring-stations/{monitoringStationId}</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="monitoringStationId">The station's CHeKT id.</param>
    /// <param name="options">Per-call options (for example <see cref="RequestOptions.IfMatch"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="PartnerApiException">409 <c>monitoring_station_in_use</c> while sites still refer to the station.</exception>
    public Task DeleteAsync(long dealerId, long monitoringStationId, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(monitoringStationId);
        return _api.SendAsync(HttpMethod.Delete, ApiConnection.Path($"dealers/{dealerId}/monitoring-stations/{monitoringStationId}"), null, options, cancellationToken);
    }
}
