using System.Text.Json.Serialization;
using Chekt.PartnerApi.Client.Http;

namespace Chekt.PartnerApi.Client;

/// <summary>A dealer's site (a customer location).</summary>
public sealed class Site : PartnerApiResource
{
    /// <summary>The CHeKT id of the site.</summary>
    public long SiteId { get; init; }

    /// <summary>Your id for the site.</summary>
    public string ExternalSiteId { get; init; } = "";

    /// <summary>The site's name.</summary>
    public string Name { get; init; } = "";

    /// <summary>The monitoring station that watches the site, if any.</summary>
    public long? MonitoringStationId { get; init; }

    /// <summary>Your id of that monitoring station, if any.</summary>
    public string? ExternalMonitoringStationId { get; init; }

    /// <summary>The account number at the monitoring station.</summary>
    public string? AccountNumber { get; init; }

    /// <summary>The first address line.</summary>
    public string? Address1 { get; init; }

    /// <summary>The second address line.</summary>
    public string? Address2 { get; init; }

    /// <summary>The IANA time zone, such as <c>America/New_York</c>.</summary>
    public string Timezone { get; init; } = "";

    /// <summary>Whether the site is activated in CHeKT (read-only; false for a new site).</summary>
    [JsonConverter(typeof(ZeroOneBooleanConverter))]
    public bool IsActivated { get; init; }

    /// <summary>When the site was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>The body of <see cref="SitesClient.CreateAsync"/>.</summary>
public sealed class CreateSiteRequest
{
    /// <summary>Your id for the site, unique per dealer (at most 128 characters).</summary>
    public required string ExternalSiteId { get; init; }

    /// <summary>The site's name.</summary>
    public required string Name { get; init; }

    /// <summary>The IANA time zone, such as <c>America/New_York</c> (Windows names are refused).</summary>
    public required string Timezone { get; init; }

    /// <summary>The dealer's monitoring station that watches the site, if any.</summary>
    public long? MonitoringStationId { get; init; }

    /// <summary>The account number at the monitoring station.</summary>
    public string? AccountNumber { get; init; }

    /// <summary>The first address line.</summary>
    public string? Address1 { get; init; }

    /// <summary>The second address line.</summary>
    public string? Address2 { get; init; }
}

/// <summary>
/// A partial update of a site: properties left unset are not sent and stay as they are; a property
/// set to <see langword="null"/> clears the field. See <see cref="Optional{T}"/>.
/// </summary>
public sealed class UpdateSiteRequest
{
    /// <summary>The site's name; it cannot be cleared.</summary>
    public Optional<string> Name { get; set; }

    /// <summary>The IANA time zone; it cannot be cleared.</summary>
    public Optional<string> Timezone { get; set; }

    /// <summary>The dealer's monitoring station; <see langword="null"/> detaches the site from its station.</summary>
    public Optional<long?> MonitoringStationId { get; set; }

    /// <summary>The account number; <see langword="null"/> clears it.</summary>
    public Optional<string?> AccountNumber { get; set; }

    /// <summary>The first address line; <see langword="null"/> clears it.</summary>
    public Optional<string?> Address1 { get; set; }

    /// <summary>The second address line; <see langword="null"/> clears it.</summary>
    public Optional<string?> Address2 { get; set; }
}

/// <summary>How a site's alarms are armed.</summary>
public sealed class ArmingSettings : PartnerApiResource
{
    /// <summary>The CHeKT id of the site.</summary>
    public long SiteId { get; init; }

    /// <summary>Your id for the site.</summary>
    public string ExternalSiteId { get; init; } = "";

    /// <summary>The site's name.</summary>
    public string Name { get; init; } = "";

    /// <summary>The kind of security system at the site.</summary>
    public SecurityType SecurityType { get; init; }
}

/// <summary>The body of <see cref="SitesClient.UpdateArmingSettingsAsync"/>.</summary>
public sealed class UpdateArmingSettingsRequest
{
    /// <summary>The kind of security system at the site.</summary>
    public required SecurityType SecurityType { get; init; }
}

/// <summary>The kind of security system at a site (<c>security_type</c>).</summary>
#pragma warning disable CA1008 // the API has no zero value
public enum SecurityType
#pragma warning restore CA1008
{
    /// <summary>1: an alarm panel, through the primary bridge (new sites start here).</summary>
    AlarmPanelPrimaryBridge = 1,

    /// <summary>2: an alarm panel, with a bridge per zone.</summary>
    AlarmPanelBridgePerZone = 2,

    /// <summary>3: a CHeKT video security system.</summary>
    ChektVideoSecuritySystem = 3,

    /// <summary>4: an Alarm.com security system.</summary>
    AlarmComSecuritySystem = 4,
}
