namespace Chekt.PartnerApi.MonitoringStations;

/// <summary>A dealer's monitoring station (spec §6).</summary>
public sealed record MonitoringStationResponse(
    long MonitoringStationId,
    string ExternalMonitoringStationId,
    string Name,
    string? Prefix,
    string? Linecard,
    string CreatedAt);

public sealed record CreateMonitoringStationRequest(string? ExternalMonitoringStationId, string? Name, string? Prefix, string? Linecard);

/// <summary>A partial update; the external id may change too (sites follow it).</summary>
public sealed record UpdateMonitoringStationRequest(string? ExternalMonitoringStationId, string? Name, string? Prefix, string? Linecard);

internal sealed class MonitoringStationRow
{
    public long Id { get; init; }

    public string ExternalMonitoringStationId { get; init; } = "";

    public string Name { get; init; } = "";

    public string? Prefix { get; init; }

    public string? Linecard { get; init; }

    public long Version { get; init; }

    public long CreatedAt { get; init; }

    public MonitoringStationResponse AsDto() => new(Id, ExternalMonitoringStationId, Name, Prefix, Linecard, Http.Timestamps.Format(CreatedAt));
}
