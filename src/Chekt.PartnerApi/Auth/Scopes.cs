namespace Chekt.PartnerApi.Auth;

/// <summary>The scopes of spec §2.3.</summary>
public static class Scopes
{
    public const string ReadDealer = "read:dealer";
    public const string UpdateDealer = "update:dealer";
    public const string CreateSites = "create:sites";
    public const string ReadSites = "read:sites";
    public const string UpdateSites = "update:sites";
    public const string DeleteSites = "delete:sites";
    public const string ReadSiteContacts = "read:site_contacts";
    public const string CreateSiteContacts = "create:site_contacts";
    public const string UpdateSiteContacts = "update:site_contacts";
    public const string DeleteSiteContacts = "delete:site_contacts";
    public const string CreateMonitoringStations = "create:monitoring_stations";
    public const string ReadMonitoringStations = "read:monitoring_stations";
    public const string UpdateMonitoringStations = "update:monitoring_stations";
    public const string DeleteMonitoringStations = "delete:monitoring_stations";
    public const string CreateDevices = "create:devices";
    public const string ReadDevices = "read:devices";
    public const string UpdateDevices = "update:devices";
    public const string DeleteDevices = "delete:devices";

    public const string OpenId = "openid";
    public const string Profile = "profile";
    public const string Email = "email";
    public const string OfflineAccess = "offline_access";

    /// <summary>Every API scope, the default allowance of a new client.</summary>
    public static readonly IReadOnlyList<string> Api =
    [
        ReadDealer, UpdateDealer,
        CreateSites, ReadSites, UpdateSites, DeleteSites,
        ReadSiteContacts, CreateSiteContacts, UpdateSiteContacts, DeleteSiteContacts,
        CreateMonitoringStations, ReadMonitoringStations, UpdateMonitoringStations, DeleteMonitoringStations,
        CreateDevices, ReadDevices, UpdateDevices, DeleteDevices,
    ];

    /// <summary>The OpenID Connect scopes of the user (authorization code) flow.</summary>
    public static readonly IReadOnlyList<string> User = [OpenId, Profile, Email, OfflineAccess];

    public static readonly IReadOnlySet<string> All = new HashSet<string>(Api.Concat(User), StringComparer.Ordinal);
}
