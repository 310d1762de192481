namespace Chekt.PartnerApi.Sites;

/// <summary>The site object (spec §4).</summary>
public sealed record SiteResponse(
    long SiteId,
    string ExternalSiteId,
    string Name,
    long? MonitoringStationId,
    string? ExternalMonitoringStationId,
    string? AccountNumber,
    string? Address1,
    string? Address2,
    string Timezone,
    int IsActivated,
    string CreatedAt);

public sealed record CreateSiteRequest(
    string? ExternalSiteId,
    string? Name,
    string? Timezone,
    long? MonitoringStationId,
    string? AccountNumber,
    string? Address1,
    string? Address2);

/// <summary>A partial update: every field of create except <c>external_site_id</c>.</summary>
public sealed record UpdateSiteRequest(
    string? Name,
    string? Timezone,
    long? MonitoringStationId,
    string? AccountNumber,
    string? Address1,
    string? Address2);

/// <summary>Arming settings: security_type 1 (alarm panel, primary bridge), 2 (alarm panel, bridge per zone), 3 (CHeKT video security system), 4 (Alarm.com).</summary>
public sealed record ArmingSettingsResponse(long SiteId, string ExternalSiteId, string Name, int SecurityType);

public sealed record UpdateArmingSettingsRequest(int? SecurityType);

internal sealed class SiteRow
{
    public long Id { get; init; }

    public string ExternalSiteId { get; init; } = "";

    public string Name { get; init; } = "";

    public long? MonitoringStationId { get; init; }

    public string? ExternalMonitoringStationId { get; init; }

    public string? AccountNumber { get; init; }

    public string? Address1 { get; init; }

    public string? Address2 { get; init; }

    public string Timezone { get; init; } = "";

    public long IsActivated { get; init; }

    public long SecurityType { get; init; }

    public long Version { get; init; }

    public long CreatedAt { get; init; }

    public SiteResponse AsDto() => new(
        Id, ExternalSiteId, Name, MonitoringStationId, ExternalMonitoringStationId, AccountNumber, Address1, Address2, Timezone,
        (int)IsActivated, Http.Timestamps.Format(CreatedAt));

    public ArmingSettingsResponse AsArmingSettings() => new(Id, ExternalSiteId, Name, (int)SecurityType);
}
