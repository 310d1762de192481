namespace Chekt.PartnerApi.Client;

/// <summary>A dealer's monitoring station (central station), which sites can refer to.</summary>
public sealed class MonitoringStation : PartnerApiResource
{
    /// <summary>The CHeKT id of the station.</summary>
    public long MonitoringStationId { get; init; }

    /// <summary>Your id for the station.</summary>
    public string ExternalMonitoringStationId { get; init; } = "";

    /// <summary>The station's name.</summary>
    public string Name { get; init; } = "";

    /// <summary>The receiver prefix.</summary>
    public string? Prefix { get; init; }

    /// <summary>The line card.</summary>
    public string? Linecard { get; init; }

    /// <summary>When the station was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>The body of <see cref="MonitoringStationsClient.CreateAsync"/>.</summary>
public sealed class CreateMonitoringStationRequest
{
    /// <summary>Your id for the station, unique per dealer (at most 128 characters).</summary>
    public required string ExternalMonitoringStationId { get; init; }

    /// <summary>The station's name.</summary>
    public required string Name { get; init; }

    /// <summary>The receiver prefix.</summary>
    public string? Prefix { get; init; }

    /// <summary>The line card.</summary>
    public string? Linecard { get; init; }
}

/// <summary>
/// A partial update of a monitoring station: properties left unset are not sent and stay as they
/// are; a property set to <see langword="null"/> clears the field. See <see cref="Optional{T}"/>.
/// </summary>
public sealed class UpdateMonitoringStationRequest
{
    /// <summary>Your id for the station (sites follow the change); it cannot be cleared.</summary>
    public Optional<string> ExternalMonitoringStationId { get; set; }

    /// <summary>The station's name; it cannot be cleared.</summary>
    public Optional<string> Name { get; set; }

    /// <summary>The receiver prefix; <see langword="null"/> clears it.</summary>
    public Optional<string?> Prefix { get; set; }

    /// <summary>The line card; <see langword="null"/> clears it.</summary>
    public Optional<string?> Linecard { get; set; }
}
