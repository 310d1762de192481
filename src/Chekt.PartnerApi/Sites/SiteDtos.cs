using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using Chekt.PartnerApi.OpenApi;
using Chekt.PartnerApi.Validation;

namespace Chekt.PartnerApi.Sites;

/// <summary>A dealer's site: the monitored premises.</summary>
/// <param name="SiteId">CHeKT's id of the site.</param>
/// <param name="ExternalSiteId">Your id for the site; unique per dealer.</param>
/// <param name="Name">The site's name.</param>
/// <param name="MonitoringStationId">The dealer's monitoring station that monitors the site, if any.</param>
/// <param name="ExternalMonitoringStationId">The <c>external_monitoring_station_id</c> of that station.</param>
/// <param name="AccountNumber">The site's account number at the monitoring station.</param>
/// <param name="Address1">Primary street address.</param>
/// <param name="Address2">Additional address details.</param>
/// <param name="Timezone">IANA time zone id, such as <c>Asia/Seoul</c>.</param>
/// <param name="IsActivated">1 when the site is activated in CHeKT, else 0 (0 on create; read-only through the API).</param>
/// <param name="CreatedAt">When the site was created (UTC, ISO 8601 with milliseconds).</param>
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
    [property: AllowedValues(0, 1)] int IsActivated,
    string CreatedAt);

/// <summary>A new site.</summary>
/// <param name="ExternalSiteId">Your id for the site; unique per dealer (else 409 <c>conflict</c>).</param>
/// <param name="Name">The site's name.</param>
/// <param name="Timezone">IANA time zone id known to the server, such as <c>Asia/Seoul</c> (Windows names are refused).</param>
/// <param name="MonitoringStationId">A monitoring station of this dealer (else 400 naming the field).</param>
/// <param name="AccountNumber">The site's account number at the monitoring station.</param>
/// <param name="Address1">Primary street address.</param>
/// <param name="Address2">Additional address details.</param>
public sealed record CreateSiteRequest(
    [property: Required, MaxLength(FieldRules.ExternalIdMaxLength)] string? ExternalSiteId,
    [property: Required, MaxLength(FieldRules.NameMaxLength)] string? Name,
    [property: Required, MaxLength(FieldRules.TextMaxLength)] string? Timezone,
    long? MonitoringStationId,
    [property: MaxLength(FieldRules.TextMaxLength)] string? AccountNumber,
    [property: MaxLength(FieldRules.TextMaxLength)] string? Address1,
    [property: MaxLength(FieldRules.TextMaxLength)] string? Address2);

/// <summary>A partial update: every field of create except <c>external_site_id</c>; absent fields stay as they are, null clears an optional one.</summary>
/// <param name="Name">The site's name; cannot be cleared.</param>
/// <param name="Timezone">IANA time zone id, such as <c>Asia/Seoul</c>; cannot be cleared.</param>
/// <param name="MonitoringStationId">A monitoring station of this dealer; null detaches the site from its station.</param>
/// <param name="AccountNumber">The site's account number at the monitoring station.</param>
/// <param name="Address1">Primary street address.</param>
/// <param name="Address2">Additional address details.</param>
public sealed record UpdateSiteRequest(
    [property: NonNullable, MaxLength(FieldRules.NameMaxLength)] string? Name,
    [property: NonNullable, MaxLength(FieldRules.TextMaxLength)] string? Timezone,
    long? MonitoringStationId,
    [property: MaxLength(FieldRules.TextMaxLength)] string? AccountNumber,
    [property: MaxLength(FieldRules.TextMaxLength)] string? Address1,
    [property: MaxLength(FieldRules.TextMaxLength)] string? Address2);

/// <summary>Arming settings: security_type 1 (alarm panel, primary bridge), 2 (alarm panel, bridge per zone), 3 (CHeKT video security system), 4 (Alarm.com).</summary>
/// <param name="SiteId">CHeKT's id of the site.</param>
/// <param name="ExternalSiteId">Your id for the site.</param>
/// <param name="Name">The site's name.</param>
/// <param name="SecurityType">1 alarm panel (primary bridge), 2 alarm panel (bridge per zone), 3 CHeKT video security system, 4 Alarm.com security system. New sites start at 1.</param>
public sealed record ArmingSettingsResponse(long SiteId, string ExternalSiteId, string Name, [property: AllowedValues(1, 2, 3, 4)] int SecurityType);

/// <summary>The new arming settings.</summary>
/// <param name="SecurityType">1 alarm panel (primary bridge), 2 alarm panel (bridge per zone), 3 CHeKT video security system, 4 Alarm.com security system.</param>
public sealed record UpdateArmingSettingsRequest([property: Required, AllowedValues(1, 2, 3, 4)] int? SecurityType);

internal sealed class SiteRow
{
    /// <summary>
    /// The columns of a row, for a query over <c>sites s LEFT JOIN monitoring_stations m ON m.id = s.monitoring_station_id</c>;
    /// <see cref="Read"/> reads them by position.
    /// </summary>
    public const string Columns =
        "s.id AS Id, s.external_site_id AS ExternalSiteId, s.name AS Name, s.monitoring_station_id AS MonitoringStationId, "
        + "m.external_monitoring_station_id AS ExternalMonitoringStationId, s.account_number AS AccountNumber, "
        + "s.address1 AS Address1, s.address2 AS Address2, s.timezone AS Timezone, s.is_activated AS IsActivated, "
        + "s.security_type AS SecurityType, s.version AS Version, s.created_at AS CreatedAt";

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

    /// <summary>Reads the <see cref="Columns"/>, starting at column <paramref name="first"/>.</summary>
    public static SiteRow Read(DbDataReader reader, int first = 0) => new()
    {
        Id = reader.GetInt64(first),
        ExternalSiteId = reader.GetString(first + 1),
        Name = reader.GetString(first + 2),
        MonitoringStationId = reader.IsDBNull(first + 3) ? null : reader.GetInt64(first + 3),
        ExternalMonitoringStationId = reader.IsDBNull(first + 4) ? null : reader.GetString(first + 4),
        AccountNumber = reader.IsDBNull(first + 5) ? null : reader.GetString(first + 5),
        Address1 = reader.IsDBNull(first + 6) ? null : reader.GetString(first + 6),
        Address2 = reader.IsDBNull(first + 7) ? null : reader.GetString(first + 7),
        Timezone = reader.GetString(first + 8),
        IsActivated = reader.GetInt64(first + 9),
        SecurityType = reader.GetInt64(first + 10),
        Version = reader.GetInt64(first + 11),
        CreatedAt = reader.GetInt64(first + 12),
    };

    public SiteResponse AsDto() => new(
        Id, ExternalSiteId, Name, MonitoringStationId, ExternalMonitoringStationId, AccountNumber, Address1, Address2, Timezone,
        (int)IsActivated, Http.Timestamps.Format(CreatedAt));

    public ArmingSettingsResponse AsArmingSettings() => new(Id, ExternalSiteId, Name, (int)SecurityType);
}
