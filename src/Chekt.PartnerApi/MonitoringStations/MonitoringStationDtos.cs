using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using Chekt.PartnerApi.OpenApi;
using Chekt.PartnerApi.Validation;

namespace Chekt.PartnerApi.MonitoringStations;

/// <summary>A dealer's monitoring station, which sites refer to.</summary>
/// <param name="MonitoringStationId">CHeKT's id of the monitoring station.</param>
/// <param name="ExternalMonitoringStationId">Your id for the station; unique per dealer.</param>
/// <param name="Name">The station's name.</param>
/// <param name="Prefix">The station's account prefix.</param>
/// <param name="Linecard">The station's line card.</param>
/// <param name="CreatedAt">When the station was created (UTC, ISO 8601 with milliseconds).</param>
public sealed record MonitoringStationResponse(
    long MonitoringStationId,
    string ExternalMonitoringStationId,
    string Name,
    string? Prefix,
    string? Linecard,
    string CreatedAt);

/// <summary>A new monitoring station.</summary>
/// <param name="ExternalMonitoringStationId">Your id for the station; unique per dealer (else 409 <c>conflict</c>).</param>
/// <param name="Name">The station's name.</param>
/// <param name="Prefix">The station's account prefix.</param>
/// <param name="Linecard">The station's line card.</param>
public sealed record CreateMonitoringStationRequest(
    [property: Required, MaxLength(FieldRules.ExternalIdMaxLength)] string? ExternalMonitoringStationId,
    [property: Required, MaxLength(FieldRules.NameMaxLength)] string? Name,
    [property: MaxLength(FieldRules.TextMaxLength)] string? Prefix,
    [property: MaxLength(FieldRules.TextMaxLength)] string? Linecard);

/// <summary>A partial update; the external id may change too (sites follow it). Absent fields stay as they are, null clears an optional one.</summary>
/// <param name="ExternalMonitoringStationId">Your id for the station; unique per dealer; cannot be cleared.</param>
/// <param name="Name">The station's name; cannot be cleared.</param>
/// <param name="Prefix">The station's account prefix.</param>
/// <param name="Linecard">The station's line card.</param>
public sealed record UpdateMonitoringStationRequest(
    [property: NonNullable, MaxLength(FieldRules.ExternalIdMaxLength)] string? ExternalMonitoringStationId,
    [property: NonNullable, MaxLength(FieldRules.NameMaxLength)] string? Name,
    [property: MaxLength(FieldRules.TextMaxLength)] string? Prefix,
    [property: MaxLength(FieldRules.TextMaxLength)] string? Linecard);

internal sealed class MonitoringStationRow
{
    /// <summary>The select list for a station row; <see cref="Read"/> reads it by position.</summary>
    public const string Columns =
        "id AS Id, external_monitoring_station_id AS ExternalMonitoringStationId, name AS Name, prefix AS Prefix, "
        + "linecard AS Linecard, version AS Version, created_at AS CreatedAt";

    public long Id { get; init; }

    public string ExternalMonitoringStationId { get; init; } = "";

    public string Name { get; init; } = "";

    public string? Prefix { get; init; }

    public string? Linecard { get; init; }

    public long Version { get; init; }

    public long CreatedAt { get; init; }

    public static MonitoringStationRow Read(DbDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        ExternalMonitoringStationId = reader.GetString(1),
        Name = reader.GetString(2),
        Prefix = reader.IsDBNull(3) ? null : reader.GetString(3),
        Linecard = reader.IsDBNull(4) ? null : reader.GetString(4),
        Version = reader.GetInt64(5),
        CreatedAt = reader.GetInt64(6),
    };

    public MonitoringStationResponse AsDto() => new(Id, ExternalMonitoringStationId, Name, Prefix, Linecard, Http.Timestamps.Format(CreatedAt));
}
